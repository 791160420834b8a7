/**
 * The ACL state of a server: its users (the `default` user always exists), the ACL log, and what
 * changes to users do to connected clients. A client's user decides two flags: `unauthenticated`
 * (core/client.ts) and `restricted`, set only when the user cannot run everything everywhere;
 * only restricted clients pass through the ACL gate, so the default user costs nothing per
 * command.
 *
 * @module
 */

import { CF, type Client } from "../client.ts";
import { type Command, F } from "../command.ts";
import type { CommandRegistry } from "../registry.ts";
import { globMatch } from "../glob.ts";
import { ErrorReply, type Reply } from "../resp/reply.ts";
import type { Server } from "../server.ts";
import { type AclDenial, AclResult, checkCommand, nopermMessage } from "./check.ts";
import { compat } from "../compat.ts";
import { flatten } from "./describe.ts";
import { AclLog, type LogContext } from "./log.ts";
import { type AclCommands, AclRuleError, hasSpaces } from "./selector.ts";
import { mergeSelectorArgs, type PubsubDefault, User } from "./user.ts";

/** The users of one server and the ACL log. */
export class Acl {
  /** Users by name. */
  users: Map<string, User> = new Map();
  /** The `default` user (the same object for the server's life, as in Redis). */
  readonly defaultUser: User;
  /** The ACL log. */
  readonly log: AclLog = new AclLog();
  /** `acl-pubsub-default`: what new selectors get for channels. */
  readonly pubsub: PubsubDefault = { allChannels: false };
  /** The commands rules name. */
  readonly commands: AclCommands;
  /** The CLIENT LIST line of a client, for log entries (set by createServer). */
  clientInfo: (client: Client, running?: string[]) => string = (c) => c.describe();
  private flat: Command[] = [];
  private flatCount = -1;

  /**
   * Creates the ACL state with the default user (`on nopass ~* &* +@all`).
   *
   * @param server the server
   * @param registry its command registry
   */
  constructor(private readonly server: Server, registry: CommandRegistry) {
    this.commands = {
      lookup: (name) => registry.original(name),
      all: () => {
        if (registry.count !== this.flatCount) {
          this.flat = flatten(registry.originals());
          this.flatCount = registry.count;
        }
        return this.flat;
      },
    };
    this.defaultUser = this.newDefaultUser();
    this.users.set("default", this.defaultUser);
  }

  /** A new `default` user as the server starts with: `on nopass ~* &* +@all`. */
  newDefaultUser(): User {
    const u = new User("default", this.pubsub);
    for (const op of ["+@all", "~*", "&*", "on", "nopass"]) u.apply(op, this.commands, this.pubsub);
    return u;
  }

  /** The user called `name`, if any. */
  user(name: string): User | undefined {
    return this.users.get(name);
  }

  /** Users sorted by name, as Redis's radix tree lists them. */
  sortedUsers(): User[] {
    return [...this.users.values()].sort(byName);
  }

  /** True when clients must authenticate: the default user has a password or is off. */
  authRequired(): boolean {
    const d = this.defaultUser;
    return !d.nopass || !d.enabled;
  }

  /** Exempts an internal client (our master's link, a session) from the ACL rules. */
  exempt(client: Client): void {
    client.aclExempt = true;
    client.authenticated = true;
    this.setClientUser(client, client.user);
  }

  /** Puts a new (or RESET) client in its first state: the default user, authenticated if free. */
  initClient(client: Client): void {
    const d = this.defaultUser;
    this.setClientUser(client, d);
    client.authenticated = d.nopass && d.enabled;
  }

  /** Makes `user` the client's user and sets its `restricted` flag. */
  setClientUser(client: Client, user: User): void {
    client.user = user;
    if (user.unrestricted || client.aclExempt) client.flags &= ~CF.restricted;
    else client.flags |= CF.restricted;
  }

  /**
   * `requirepass`: sets the default user's password (`resetpass >pass`, or `nopass` when empty).
   */
  setDefaultPassword(password: string): void {
    const d = this.defaultUser;
    d.apply("resetpass", this.commands, this.pubsub);
    d.apply(password === "" ? "nopass" : `>${password}`, this.commands, this.pubsub);
    this.changed(d);
  }

  /**
   * ACL SETUSER: applies `rules` to the user `name` (created when missing); nothing changes when
   * one rule is invalid.
   *
   * @returns Redis's error text, or undefined when done
   */
  setUser(name: string, rules: string[]): string | undefined {
    const merged = mergeSelectorArgs(rules);
    if (typeof merged === "number") {
      return `ERR Unmatched parenthesis in acl selector starting at '${rules[merged]}'.`;
    }
    const old = this.users.get(name);
    const temp = new User(name, this.pubsub);
    if (old !== undefined) temp.copyFrom(old);
    for (const op of merged) {
      try {
        temp.apply(op, this.commands, this.pubsub);
      } catch (e) {
        if (!(e instanceof AclRuleError)) throw e;
        return `ERR Error in ACL SETUSER modifier '${op}': ${e.message}`;
      }
    }
    if (old === undefined) {
      this.users.set(name, temp);
      return undefined;
    }
    this.dropRevokedSubscribers(old, temp);
    old.copyFrom(temp);
    this.changed(old);
    return undefined;
  }

  /** Checks a user name as ACL SETUSER does; returns Redis's error text when refused. */
  badName(name: string): string | undefined {
    return hasSpaces(name) ? "ERR Usernames can't contain spaces or null characters" : undefined;
  }

  /** ACL DELUSER: removes users and disconnects their clients; returns how many were removed. */
  deleteUsers(names: string[]): number {
    let n = 0;
    for (const name of names) {
      const u = this.users.get(name);
      if (u === undefined) continue;
      this.users.delete(name);
      this.disconnectUsers(new Set([u]));
      n++;
    }
    return n;
  }

  /**
   * Disconnects the clients of `users`, as Redis does for a deleted user: the client running
   * the command closes once it has its reply, the others at once.
   */
  disconnectUsers(users: Set<User>): void {
    for (const c of [...this.server.clients.values()]) {
      if (!users.has(c.user) || (c.flags & CF.local) !== 0) continue;
      this.setClientUser(c, this.defaultUser);
      c.authenticated = false;
      if (c === this.server.current) c.flags |= CF.closeAfterReply;
      else c.close();
    }
  }

  /**
   * After ACL LOAD replaced the users `old` (Redis 7.4): each one's clients move to the new user
   * of its name, or are disconnected when there is none; a subscriber to a channel the new user
   * does not allow is closed.
   */
  rebindAfterLoad(old: Set<User>): void {
    const gone = new Set<User>();
    for (const u of old) {
      const next = this.users.get(u.name);
      if (next === undefined) {
        gone.add(u);
        continue;
      }
      this.dropRevokedSubscribers(u, next);
      for (const c of this.server.clients.values()) {
        if (c.user === u && (c.flags & CF.closed) === 0) this.setClientUser(c, next);
      }
    }
    this.disconnectUsers(gone);
  }

  /** After a user's rules changed: its clients' `restricted` flags follow. */
  changed(user: User): void {
    for (const c of this.server.clients.values()) {
      if (c.user === user) this.setClientUser(c, user);
    }
  }

  /**
   * Clients of `old` subscribed to a channel or pattern `next` no longer allows are closed
   * (ACLKillPubsubClientsIfNeeded in acl.c).
   */
  private dropRevokedSubscribers(old: User, next: User): void {
    if (next.selectors.some((s) => s.allChannels)) return;
    const upcoming = next.selectors.flatMap((s) => s.channels);
    const kept = !old.selectors.some((s) => s.allChannels) &&
      old.selectors.every((s) => s.channels.every((c) => upcoming.includes(c)));
    if (kept) return;
    const allowed = (ch: string, pattern: boolean) =>
      upcoming.some((p) => pattern ? p === ch : globMatch(p, ch));
    for (const c of [...this.server.clients.values()]) {
      if (c.user !== old || (c.flags & CF.pubsub) === 0) continue;
      const subs = this.server.pubsub.subscriptionsOf(c);
      const revoked = subs.patterns.some((p) => !allowed(p, true)) ||
        subs.channels.some((ch) => !allowed(ch, false)) ||
        subs.shardChannels.some((ch) => !allowed(ch, false));
      if (revoked) c.close();
    }
  }

  /**
   * AUTH and HELLO AUTH: authenticates `client` as `username` when the password is right and the
   * user is on; otherwise logs the failure and answers false.
   *
   * @param argv0 the command name as sent (the log entry's object)
   */
  authenticate(client: Client, username: string, password: string, argv0: string): boolean {
    const u = this.users.get(username);
    if (u !== undefined && u.enabled && u.checkPassword(password)) {
      client.authenticated = true;
      client.aclExempt = false;
      this.setClientUser(client, u);
      return true;
    }
    this.addLog(client, "auth", argv0, username);
    return false;
  }

  /** Logs a refusal of `cmd` (object: its name, or the key or channel refused). */
  logDenial(client: Client, d: AclDenial, cmd: Command, argv: string[], context: LogContext): void {
    const reason = d.reason === AclResult.command
      ? "command"
      : d.reason === AclResult.key
      ? "key"
      : "channel";
    const object = d.reason === AclResult.command ? cmd.fullName : argv[d.pos]!;
    const stats = this.server.stats;
    if (reason === "command") stats.aclDeniedCommands++;
    else if (reason === "key") stats.aclDeniedKeys++;
    else stats.aclDeniedChannels++;
    this.addLog(client, reason, object, client.user.name, context, argv);
  }

  private addLog(
    client: Client,
    reason: "command" | "key" | "channel" | "auth",
    object: string,
    username: string,
    context: LogContext = (client.flags & CF.multi) !== 0 ? "multi" : "toplevel",
    running?: string[],
  ): void {
    this.log.add({
      reason,
      context,
      object,
      username,
      time: this.server.clock.now(),
      clientInfo: this.clientInfo(client, running),
    });
  }

  /**
   * The ACL gate: refuses a command the client's user may not run, with Redis's `NOPERM` error,
   * and logs it. Runs only for restricted clients.
   */
  refusal(client: Client, cmd: Command, argv: string[]): Reply | undefined {
    const d = checkCommand(client.user, cmd, argv);
    if (d === undefined) return undefined;
    // Redis names the refused command in CLIENT LIST's `cmd` (it sets lastcmd before checking).
    client.lastCommand = cmd.fullName;
    this.logDenial(client, d, cmd, argv, (client.flags & CF.multi) !== 0 ? "multi" : "toplevel");
    return new ErrorReply(nopermMessage(d, client.user, cmd, compat(this.server.config).v72));
  }
}

/** Byte order of names (the order of Redis's radix tree of users). */
function byName(a: User, b: User): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

const NOAUTH = new ErrorReply("NOAUTH Authentication required.");

/**
 * Authentication, then ACLs (runs only for clients with one of the flags): refuses every command
 * but the no_auth ones until the client authenticates, while the default user has a password or
 * is off (Redis's authRequired); then, for a restricted user, what its rules refuse.
 */
export function accessGate(client: Client, cmd: Command, argv: string[]): Reply | undefined {
  const acl = client.server.acl;
  if (
    (client.flags & CF.unauthenticated) !== 0 && (cmd.bits & F.noAuth) === 0 &&
    acl.authRequired()
  ) {
    return NOAUTH;
  }
  return (client.flags & CF.restricted) !== 0 ? acl.refusal(client, cmd, argv) : undefined;
}
