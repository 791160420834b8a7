/**
 * The rooms page: one HTML document with its script. The script opens a WebSocket to the app
 * instance that served it, renders the rooms it is told about, and sends `join` and `leave`.
 * The elements carry their state in `data-` attributes, which the demo's test reads.
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
document.getElementById("me").textContent = name;
document.getElementById("instance").textContent = location.host;
const ws = new WebSocket("ws://" + location.host + "/ws?name=" + encodeURIComponent(name));
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
    li.dataset.waiters = String(r.waiters);
    li.className = r.members.length >= r.capacity ? "full" : "";
    li.textContent = r.name + ": " + r.members.length + "/" + r.capacity + " seats taken, " +
      r.waiters + " waiting. In: " + (r.members.join(", ") || "nobody") + " ";
    const join = document.createElement("button");
    join.textContent = "Join";
    join.dataset.room = r.name;
    join.disabled = status.dataset.state !== "idle";
    join.onclick = () => ws.send(JSON.stringify({ type: "join", room: r.name }));
    li.append(join);
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
