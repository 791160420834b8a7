/**
 * The rooms page: one HTML document with its script. The script opens a WebSocket to the app
 * instance that served it, renders the rooms it is told about, and sends `join`, `party` and
 * `leave`; Reserve posts to `/reserve` and opens the room page (`?room=`), whose socket confirms
 * the seat. Query parameters: `name` (the member), `display` (the name shown), `party` (names
 * joining with this visitor, comma-separated), `room` (set by Reserve). The elements carry their
 * state in `data-` attributes, which the demo's test reads.
 *
 * @module
 */

export const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>redeno rooms</title>
<style>
  body { font: 15px system-ui, sans-serif; margin: 2em; max-width: 40em; }
  li { margin: .5em 0; padding: .5em; border: 1px solid #ccc; border-radius: 6px; list-style: none; }
  .full { background: #fee; }
  #status { font-weight: bold; }
  #event { color: #666; }
</style>
</head>
<body>
<h1>Rooms</h1>
<p>You are <b id="me"></b>, on the app instance at <span id="instance"></span>.</p>
<p id="status" data-state="connecting">Connecting…</p>
<button id="leave" hidden>Leave</button>
<ul id="rooms"></ul>
<p id="event"></p>
<script>
const params = new URLSearchParams(location.search);
const name = params.get("name") || "guest" + Math.floor(Math.random() * 1e4);
const display = params.get("display") || name;
const party = (params.get("party") || "").split(",").filter((p) => p !== "");
document.getElementById("me").textContent = display + " (" + name + ")";
document.getElementById("instance").textContent = location.host;
const query = (extra) => new URLSearchParams({ name, display, party: party.join(","), ...extra });
const ws = new WebSocket("ws://" + location.host + "/ws?" + query(
  params.get("room") ? { room: params.get("room") } : {},
));
// A reload must not confirm the seat again: the room page becomes a plain page.
if (params.get("room")) history.replaceState(null, "", "?" + query({}));
const rooms = new Map();
const status = document.getElementById("status");
const leave = document.getElementById("leave");
leave.onclick = () => ws.send(JSON.stringify({ type: "leave" }));

function render() {
  const ul = document.getElementById("rooms");
  ul.replaceChildren();
  for (const r of [...rooms.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    const li = document.createElement("li");
    li.id = "room-" + r.name;
    li.dataset.members = r.members.join(",");
    li.dataset.presence = r.presence.join(",");
    li.dataset.waiters = String(r.waiters);
    li.dataset.reserved = String(r.reserved);
    li.className = r.members.length + r.reserved >= r.capacity ? "full" : "";
    li.textContent = r.name + ": " + r.members.length + "/" + r.capacity + " seats taken, " +
      r.reserved + " reserved, " + r.waiters + " waiting. In: " +
      (r.presence.join(", ") || "nobody") + " ";
    const button = (text, data, onclick) => {
      const b = document.createElement("button");
      b.textContent = text;
      b.dataset[data] = r.name;
      b.disabled = status.dataset.state !== "idle";
      b.onclick = onclick;
      li.append(b);
    };
    button("Join", "room", () => ws.send(JSON.stringify({ type: "join", room: r.name })));
    button("Reserve", "reserve", async () => {
      const res = await fetch("/reserve?" + new URLSearchParams({ room: r.name, name }), {
        method: "POST",
      });
      const body = await res.json();
      if (res.ok) location.href = "?" + query({ room: r.name });
      else status.textContent = "Cannot reserve: " + body.error;
    });
    if (party.length !== 0) {
      button("Join with " + party.join(", "), "party", () =>
        ws.send(JSON.stringify({ type: "party", room: r.name, with: party })));
    }
    ul.append(li);
  }
}

ws.onmessage = (e) => {
  const m = JSON.parse(e.data);
  if (m.type === "room") {
    rooms.set(m.room.name, m.room);
    if (m.event) document.getElementById("event").textContent = "Last: " + m.event;
  } else if (m.type === "status") {
    status.dataset.state = m.state;
    status.dataset.room = m.room || "";
    status.dataset.pos = m.pos == null ? "" : String(m.pos);
    status.textContent = m.state === "in"
      ? "In " + m.room
      : m.state === "waiting"
      ? "Waiting for " + m.room + (m.pos == null ? "…" : ": number " + m.pos + " in line")
      : m.error || "Pick a room";
    leave.hidden = m.state === "idle";
  }
  render();
};
ws.onclose = () => {
  status.dataset.state = "closed";
  status.textContent = "Disconnected";
};
</script>
</body>
</html>
`;
