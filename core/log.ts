/**
 * Log lines in Redis's format: `pid:M 22 Nov 2026 02:39:15.123 * Ready to accept connections`.
 *
 * @module
 */

/** Redis's log levels, least to most severe. */
export type LogLevel = "debug" | "verbose" | "notice" | "warning";

/** Receives formatted log lines. */
export type LogSink = (line: string, level: LogLevel) => void;

const RANK: Record<LogLevel, number> = { debug: 0, verbose: 1, notice: 2, warning: 3 };
const MARK: Record<LogLevel, string> = { debug: ".", verbose: "-", notice: "*", warning: "#" };
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function pad(n: number, w = 2): string {
  return String(n).padStart(w, "0");
}

/** Formats and filters log lines. */
export class Logger {
  level: LogLevel = "notice";
  /** Role letter: M master, S replica, C child. */
  role = "M";
  private readonly sink: LogSink | undefined;

  /** @param sink true for stdout, a function, or false/undefined for no logging */
  constructor(sink: boolean | LogSink | undefined) {
    this.sink = sink === true ? (line) => console.log(line) : sink === false ? undefined : sink;
  }

  /** Logs `message` at `level` when the level is enabled. */
  log(level: LogLevel, message: string): void {
    if (this.sink === undefined || RANK[level] < RANK[this.level]) return;
    const d = new Date();
    const stamp = `${pad(d.getDate())} ${MONTHS[d.getMonth()]} ${d.getFullYear()} ${
      pad(d.getHours())
    }:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
    const pid = (globalThis as { process?: { pid?: number } }).process?.pid ?? 0;
    this.sink(`${pid}:${this.role} ${stamp} ${MARK[level]} ${message}`, level);
  }
}
