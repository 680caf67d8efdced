/** Public API of the firmware simulator (used by the CLI, the demo and tests). */
export { startSimulation, type Simulation, type SimulationOptions } from './sim.js';
export { SCENARIOS, SCENARIO_NAMES, checkScenarios, isScenarioName, pickBoxes, type Scenario, type ScenarioName, type ScenarioContext, type ScenarioOptions } from './scenarios.js';
export { FlakyLink, type FlakyLinkOptions } from './flaky-link.js';
export { SimClock, MediaPath, type SimBox } from './sim-box.js';
export { SimPlayer, type DecodedFile } from './sim-player.js';
export { MarkerDetector, MarkerSink, markerPcm, markerTrack, wavFile, MARKER_HZ, MARKER_MS, type MarkerDetectorOptions } from './live-markers.js';
export { programmeMs } from './fleet-box.js';
export { ServerApi, ancestorsOf, type AreaNode, type CreatedDevice } from './server-api.js';
export { SimError, readSimState, writeSimState, boxDir, simStateSchema, simDeviceSchema, type SimState, type SimDevice } from './state-file.js';
export { runCli, helpText, DEFAULT_STATE_FILE, type CliIo } from './cli.js';
export { startFleet, runFleetChild, BOXES_PER_PROCESS, FleetBox, FLEET_AGENT_VERSION, type Fleet, type FleetOptions, type FleetCounts, type FleetReport, type FleetBoxRecord, type FleetDeliveryRecord, type FleetBoxSpec, type BoxDelivery } from './fleet.js';
