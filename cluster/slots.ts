/**
 * Hash slots of keys, for the cluster plugin: they live in core/slots.ts, since the core needs
 * them too (a plugin's notification channel in its key's slot, core/shard_channel.ts).
 *
 * @module
 */

export { crc16, keyHashSlot } from "../core/slots.ts";
