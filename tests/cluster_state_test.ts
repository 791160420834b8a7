import { test } from "node:test";
import assert from "node:assert/strict";
import { ManualClock } from "../core/clock.ts";
import { bitSet, CLUSTER_SLOTS, isNodeId, NodeFlag } from "../cluster/node.ts";
import { ClusterState, Todo } from "../cluster/state.ts";

const T0 = 1_700_000_000_000;

function fresh(settings: Partial<{ timeout: number; full: boolean }> = {}) {
  const clock = new ManualClock(T0);
  const saves: boolean[] = [];
  const st = new ClusterState(clock, {
    settings: {
      nodeTimeout: () => settings.timeout ?? 15000,
      requireFullCoverage: () => settings.full ?? true,
      allowReplicaMigration: () => true,
    },
    hooks: { schedule: () => {}, save: (fsync) => saves.push(fsync) },
  });
  return { clock, st, saves };
}

function bitmap(from: number, to: number): Uint8Array {
  const b = new Uint8Array(CLUSTER_SLOTS / 8);
  for (let j = from; j <= to; j++) bitSet(b, j);
  return b;
}

test("a new state has myself as a master with a random 40-char id, state fail", () => {
  const { st } = fresh();
  assert.ok(isNodeId(st.myself.id));
  assert.equal(st.myself.flagsString(), "myself,master");
  assert.equal(st.nodes.get(st.myself.id), st.myself);
  assert.equal(st.state, "fail");
});

test("assignSlot binds only unassigned slots and counts them; ranges come back merged", () => {
  const { st } = fresh();
  for (let j = 0; j <= 100; j++) assert.equal(st.assignSlot(st.myself, j), true);
  assert.equal(st.assignSlot(st.myself, 5), false);
  st.assignSlot(st.myself, 200);
  assert.equal(st.myself.numSlots, 102);
  assert.deepEqual(st.myself.slotRanges(), [[0, 100], [200, 200]]);
  assert.equal(st.unassignSlot(200), true);
  assert.equal(st.unassignSlot(200), false);
  assert.equal(st.myself.numSlots, 101);
});

test("updateState turns ok after the writable delay only with full coverage", () => {
  const { st, clock } = fresh();
  for (let j = 0; j < CLUSTER_SLOTS; j++) st.assignSlot(st.myself, j);
  st.updateState();
  assert.equal(st.state, "fail", "a master waits 2 s after the first evaluation");
  clock.advance(2001);
  st.updateState();
  assert.equal(st.state, "ok");
  assert.equal(st.size, 1);
  st.unassignSlot(77);
  st.updateState();
  assert.equal(st.state, "fail");
});

test("without cluster-require-full-coverage a hole does not fail the cluster", () => {
  const { st, clock } = fresh({ full: false });
  st.assignSlot(st.myself, 0);
  st.updateState();
  clock.advance(2001);
  st.updateState();
  assert.equal(st.state, "ok");
});

test("a minority partition fails the cluster", () => {
  const { st, clock } = fresh({ timeout: 1000 });
  const a = st.createNode("a".repeat(40), NodeFlag.MASTER);
  const b = st.createNode("b".repeat(40), NodeFlag.MASTER);
  st.addNode(a);
  st.addNode(b);
  for (let j = 0; j < CLUSTER_SLOTS; j++) st.assignSlot([st.myself, a, b][j % 3]!, j);
  st.updateState();
  clock.advance(3000);
  st.updateState();
  assert.equal(st.state, "ok");
  st.markPfail(a);
  st.markPfail(b);
  st.updateState();
  assert.equal(st.state, "fail");
  st.clearPfail(a);
  st.updateState();
  assert.equal(st.state, "fail", "a master waits the rejoin delay after a minority");
  clock.advance(1001);
  st.updateState();
  assert.equal(st.state, "ok");
});

test("PFAIL becomes FAIL with a majority of masters reporting; reports expire", () => {
  const { st, clock } = fresh({ timeout: 1000 });
  const [a, b, c] = ["a", "b", "c"].map((ch) => {
    const n = st.createNode(ch.repeat(40), NodeFlag.MASTER);
    st.addNode(n);
    return n;
  }) as [
    ReturnType<typeof st.createNode>,
    ReturnType<typeof st.createNode>,
    ReturnType<typeof st.createNode>,
  ];
  for (let j = 0; j < 4; j++) st.assignSlot([st.myself, a, b, c][j]!, j);
  st.updateState();
  clock.advance(2001);
  st.updateState();
  assert.equal(st.size, 4);
  st.markPfail(c);
  assert.equal(st.addFailureReport(c, a), true);
  assert.equal(st.addFailureReport(c, a), false);
  assert.equal(st.markFailIfNeeded(c), false, "2 of 3 needed votes");
  clock.advance(2001);
  st.addFailureReport(c, b);
  assert.equal(st.failureReportsCount(c), 1, "a's report is older than 2 node timeouts");
  st.addFailureReport(c, a);
  assert.equal(st.markFailIfNeeded(c), true);
  assert.equal(c.flagsString(), "master,fail");
  st.clearFailIfNeeded(c);
  assert.equal(c.failed, true, "a master with slots stays FAIL for 2 node timeouts");
  clock.advance(2001);
  st.clearFailIfNeeded(c);
  assert.equal(c.failed, false);
});

test("renameNode and deleteNode keep the tables consistent", () => {
  const { st } = fresh();
  const h = st.createNode(undefined, NodeFlag.HANDSHAKE | NodeFlag.MEET);
  st.addNode(h);
  st.renameNode(h, "d".repeat(40));
  assert.equal(st.lookupNode("d".repeat(40)), h);
  h.flags = NodeFlag.MASTER;
  const r = st.createNode("e".repeat(40), NodeFlag.SLAVE);
  st.addNode(r);
  st.setReplicaOf(r, h);
  assert.deepEqual(h.replicas, [r]);
  st.assignSlot(h, 9);
  st.migratingTo[10] = h;
  st.addFailureReport(st.myself, h);
  st.deleteNode(h);
  assert.equal(st.slots[9], undefined);
  assert.equal(st.migratingTo[10], undefined);
  assert.equal(st.myself.failReports.size, 0);
  assert.equal(r.replicaOf, undefined);
  assert.equal(st.lookupNode("d".repeat(40)), undefined);
  assert.equal(st.lookupNode("D".repeat(40)), undefined, "ids are lowercase");
});

test("updateSlotsConfigWith rebinds by config epoch and demotes a master that lost all its slots", () => {
  const { st } = fresh();
  const replicated: string[] = [];
  st.hooks.replicate = (m) => replicated.push(m.id);
  const other = st.createNode("f".repeat(40), NodeFlag.MASTER);
  st.addNode(other);
  st.myself.configEpoch = 5;
  for (let j = 0; j < 100; j++) st.assignSlot(st.myself, j);
  st.updateSlotsConfigWith(other, 4, bitmap(0, 99));
  assert.equal(st.slots[0], st.myself, "an older epoch does not win");
  st.importingFrom[3] = other;
  st.updateSlotsConfigWith(other, 6, bitmap(0, 99));
  assert.equal(st.slots[0], other);
  assert.equal(st.slots[3], st.myself, "an importing slot is left alone");
  st.importingFrom[3] = undefined;
  st.updateSlotsConfigWith(other, 6, bitmap(0, 99));
  assert.equal(st.myself.numSlots, 0);
  assert.equal(st.myself.flagsString(), "myself,slave");
  assert.equal(st.myself.replicaOf, other);
  assert.deepEqual(replicated, [other.id]);
});

test("bumpConfigEpochWithoutConsensus takes a new epoch only when not already the greatest", () => {
  const { st } = fresh();
  assert.equal(st.bumpConfigEpochWithoutConsensus(), true);
  assert.equal(st.myself.configEpoch, 1);
  assert.equal(st.currentEpoch, 1);
  assert.equal(st.bumpConfigEpochWithoutConsensus(), false);
});

test("todo coalesces work into one beforeSleep that updates state and saves with fsync", () => {
  const clock = new ManualClock(T0);
  const runs: Array<() => void> = [];
  const saves: boolean[] = [];
  const st = new ClusterState(clock, {
    hooks: { schedule: (run) => runs.push(run), save: (f) => saves.push(f) },
  });
  st.todo(Todo.SAVE_CONFIG);
  st.todo(Todo.UPDATE_STATE | Todo.FSYNC_CONFIG);
  assert.equal(runs.length, 1);
  runs[0]!();
  assert.deepEqual(saves, [true]);
  st.todo(Todo.SAVE_CONFIG);
  assert.equal(runs.length, 2);
});

test("reset hard forgets nodes, zeroes epochs and changes the id", () => {
  const { st } = fresh();
  const old = st.myself.id;
  st.addNode(st.createNode("a".repeat(40), NodeFlag.MASTER));
  st.assignSlot(st.myself, 1);
  st.currentEpoch = 7;
  st.reset(true);
  assert.equal(st.nodes.size, 1);
  assert.notEqual(st.myself.id, old);
  assert.equal(st.currentEpoch, 0);
  assert.equal(st.myself.numSlots, 0);
});
