// The live run page (/runs/<id>): follows one run over the /ws WebSocket and updates the page
// the server rendered. Subscribing sends the run's current state first, then every change.
// Text goes in with textContent only: block inputs and outputs are never parsed as HTML.
"use strict";

(function () {
  const root = document.getElementById("run");
  if (!root) return;

  const TERMINAL = new Set(["COMPLETED", "FAILED", "TERMINATED"]);
  const REFUSED = new Set([4001, 4002, 4003]); // not logged in, bad or expired token
  const execId = root.dataset.execId;
  const live = document.getElementById("live");
  let finished = TERMINAL.has(root.dataset.status);
  let socket = null;
  let heartbeat = null;
  let retries = 0;

  function websocketUrl() {
    if (root.dataset.websocketUrl) return root.dataset.websocketUrl;
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    return scheme + "//" + window.location.host + "/ws";
  }

  function setLive(state, text) {
    live.dataset.state = state;
    live.textContent = text;
  }

  function setStatus(element, status) {
    element.dataset.status = status;
    element.textContent = status.replace("_", " ");
  }

  function formatTime(iso) {
    if (!iso) return "–";
    return new Date(iso).toISOString().replace("T", " ").slice(0, 19) + " UTC";
  }

  function formatDuration(startedAt, endedAt) {
    if (!startedAt || !endedAt) return "";
    return ((new Date(endedAt) - new Date(startedAt)) / 1000).toFixed(2) + " s";
  }

  function json(value) {
    return JSON.stringify(value === undefined ? null : value, null, 2);
  }

  function showError(element, message) {
    element.hidden = !message;
    element.textContent = message || "";
  }

  function renderOutputs(outputs) {
    const container = document.getElementById("run-outputs");
    const names = Object.keys(outputs || {});
    container.replaceChildren();
    if (names.length === 0) {
      const note = document.createElement("p");
      note.className = "muted";
      note.textContent = finished ? "None." : "Shown when the run ends.";
      container.append(note);
      return;
    }
    const list = document.createElement("dl");
    list.className = "outputs";
    for (const name of names) {
      const term = document.createElement("dt");
      term.textContent = name;
      list.append(term);
      for (const value of outputs[name]) {
        const item = document.createElement("dd");
        const pre = document.createElement("pre");
        pre.textContent = json(value);
        item.append(pre);
        list.append(item);
      }
    }
    container.append(list);
  }

  function onGraphEvent(data) {
    root.dataset.status = data.status;
    setStatus(document.getElementById("run-status"), data.status);
    document.getElementById("run-started").textContent = formatTime(data.started_at);
    document.getElementById("run-ended").textContent = formatTime(data.ended_at);
    document.getElementById("run-duration").textContent = formatDuration(data.started_at, data.ended_at) || "–";
    const error = data.error && (data.error.message || JSON.stringify(data.error));
    showError(document.getElementById("run-error"), error);
    if (TERMINAL.has(data.status)) {
      finished = true;
      renderOutputs(data.outputs);
      // The socket stays open: when the run ended before this page subscribed, the current state
      // of its nodes follows this event, and a closing socket would drop it.
      setLive("done", "Finished");
    }
  }

  function nodeElement(data) {
    let node = root.querySelector('li.node[data-node-id="' + CSS.escape(data.node_id) + '"]');
    if (!node) {
      // Not in the page the server rendered (not expected): add it at the end.
      node = document.createElement("li");
      node.className = "node";
      node.dataset.nodeId = data.node_id;
      const head = document.createElement("div");
      head.className = "node-head";
      const name = document.createElement("strong");
      name.className = "block-name";
      name.textContent = data.block_id;
      const id = document.createElement("code");
      id.className = "node-id";
      id.textContent = data.node_id;
      const status = document.createElement("span");
      status.className = "status";
      status.dataset.role = "node-status";
      const runs = document.createElement("ol");
      runs.className = "node-runs";
      head.append(name, " ", id, " ", status);
      node.append(head, runs);
      document.getElementById("nodes").append(node);
    }
    return node;
  }

  function onNodeEvent(data) {
    const node = nodeElement(data);
    const runs = node.querySelector(".node-runs");
    let run = runs.querySelector('li.node-run[data-node-exec-id="' + CSS.escape(data.node_exec_id) + '"]');
    if (!run) {
      run = document.getElementById("node-run-template").content.firstElementChild.cloneNode(true);
      run.dataset.nodeExecId = data.node_exec_id;
      runs.append(run);
    }
    setStatus(run.querySelector('[data-role="status"]'), data.status);
    run.querySelector('[data-role="duration"]').textContent = formatDuration(data.started_at, data.ended_at);
    run.querySelector('[data-role="inputs"]').textContent = json(data.input_data);
    run.querySelector('[data-role="outputs"]').textContent = json(data.output_data);
    showError(run.querySelector('[data-role="error"]'), data.error);
    // A node shows the status of its latest run.
    const latest = runs.lastElementChild.querySelector('[data-role="status"]');
    setStatus(node.querySelector('[data-role="node-status"]'), latest.dataset.status);
  }

  function onMessage(event) {
    const message = JSON.parse(event.data);
    if (message.method === "subscribe_graph_execution") {
      if (message.success) {
        retries = 0;
        setLive("live", "Live");
      } else {
        setLive("error", "Live updates unavailable: " + (message.error || "refused"));
      }
    } else if (message.method === "graph_execution_event" && message.data.id === execId) {
      onGraphEvent(message.data);
    } else if (message.method === "node_execution_event" && message.data.graph_exec_id === execId) {
      onNodeEvent(message.data);
    }
  }

  function connect() {
    socket = new WebSocket(websocketUrl());
    socket.addEventListener("open", function () {
      socket.send(JSON.stringify({ method: "subscribe_graph_execution", data: { graph_exec_id: execId } }));
      heartbeat = window.setInterval(function () {
        socket.send(JSON.stringify({ method: "heartbeat" }));
      }, 25000);
    });
    socket.addEventListener("message", onMessage);
    socket.addEventListener("close", function (event) {
      window.clearInterval(heartbeat);
      socket = null;
      if (finished) return;
      if (REFUSED.has(event.code)) {
        setLive("error", "Live updates need a login: reload the page after logging in.");
        return;
      }
      // Lost (a restart, a network blip): try again, waiting a little longer each time.
      const delay = Math.min(30000, 1000 * 2 ** retries);
      retries += 1;
      setLive("reconnecting", "Connection lost, reconnecting…");
      window.setTimeout(connect, delay);
    });
  }

  if (!finished) connect();
})();
