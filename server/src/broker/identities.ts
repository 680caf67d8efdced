/**
 * What the device routes (devices.ts, claims.ts) ask of an external broker that keeps its own device
 * identities: Mosquitto's dynamic-security plugin (mosquitto-dynsec.ts) or Mosquitto's password and ACL
 * files (mosquitto-files.ts, issue 21). A broker with HTTP auth asks the server instead and needs neither.
 * Its own module, imported by both and by broker.ts, so that no cycle of types forms.
 */

export interface DeviceSpec {
  deviceId: string;
  /** The plaintext secret; needed to create the identity or to change its password, not to update its ACLs. */
  password?: string | undefined;
  /** The device's area and its ancestors, the area first (AreaRepository.ancestry). */
  areaAncestry: readonly string[];
}

export interface BrokerIdentities {
  /**
   * Creates or updates boxes' identities and ACLs; resolves once the broker applies them (a box given its
   * credentials in the answer can connect at once), rejects when it does not.
   */
  ensureDevices(specs: readonly DeviceSpec[]): Promise<void>;
  ensureDevice(spec: DeviceSpec): Promise<void>;
  /** Removes a box's identity; the broker disconnects it and refuses it from then on. Idempotent. */
  revokeDevice(deviceId: string): Promise<void>;
}
