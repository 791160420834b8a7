/**
 * The cluster bus as a plugin, set up after the {@linkcode cluster} plugin: with `cluster-enabled
 * yes` it runs the bus for the server's cluster mode (attach.ts); otherwise it does nothing.
 *
 * @module
 */

import type { Plugin } from "../../core/server.ts";
import { clusterOf } from "../mod.ts";
import { attachBus } from "./attach.ts";

/**
 * The cluster bus plugin.
 *
 * @example
 * ```ts
 * import { createServer } from "../../mod.ts";
 * import { cluster } from "../mod.ts";
 * import { clusterBus } from "./plugin.ts";
 *
 * const node = createServer({
 *   plugins: [cluster(), clusterBus()],
 *   config: { "cluster-enabled": "yes", "cluster-config-file": "/tmp/nodes-7000.conf" },
 * });
 * await node.listen({ port: 7000 }); // the bus listens on 17000
 * ```
 *
 * @returns the plugin
 */
export function clusterBus(): Plugin {
  return {
    name: "cluster-bus",
    dependencies: ["cluster"],
    setup(server) {
      const mode = clusterOf(server);
      if (mode !== undefined) attachBus(mode);
    },
  };
}
