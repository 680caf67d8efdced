/** Reported in the online status and telemetry; bump with device-agent/package.json. */
export const AGENT_VERSION = '0.1.0';
