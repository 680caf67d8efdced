/**
 * Named behaviours of the simulated boxes. Only `steady` exists for now; fault scenarios (power cut,
 * amplifier failure, flaky 4G, clock drift) arrive with the hardware simulation.
 */
import type { DeviceAgent } from '@loaxa/device-agent';
import type { Logger } from 'pino';
import { SimError } from './state-file.js';

export interface ScenarioContext {
  agents: readonly DeviceAgent[];
  logger: Logger;
}

export interface Scenario {
  description: string;
  /** Starts the behaviour; returns what undoes it at stop. */
  start(ctx: ScenarioContext): () => void | Promise<void>;
}

export const SCENARIO_NAMES = ['steady'] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

export const SCENARIOS: Record<ScenarioName, Scenario> = {
  steady: {
    description: 'boxes behave normally: online, heartbeats, every command answered and played',
    start: () => () => undefined,
  },
};

export function isScenarioName(name: string): name is ScenarioName {
  return Object.hasOwn(SCENARIOS, name);
}

/** Checks scenario names; the message lists the known ones. */
export function checkScenarios(names: readonly string[]): ScenarioName[] {
  const unknown = names.filter((n) => !isScenarioName(n));
  if (unknown.length > 0) {
    throw new SimError(`unknown scenario ${unknown.map((n) => JSON.stringify(n)).join(', ')}; known scenarios: ${Object.keys(SCENARIOS).join(', ')}`);
  }
  return names as ScenarioName[];
}
