// The run page's live event log: follows /ops/runs/{id}/events (server-sent events) while
// the run is not terminal, appends each new line, keeps at most the newest `data-max` lines,
// and reconnects from the last line it showed when the stream drops.
(function () {
  'use strict';
  var log = document.getElementById('event-log');
  if (!log || log.getAttribute('data-live') !== 'true' || !window.EventSource) {
    return;
  }
  var body = log.querySelector('tbody');
  var state = document.getElementById('log-state');
  var max = parseInt(log.getAttribute('data-max'), 10) || 1000;
  var stream = log.getAttribute('data-stream');
  var source = null;

  function lastId() {
    var rows = body.querySelectorAll('tr[data-id]');
    return rows.length ? rows[rows.length - 1].getAttribute('data-id') : null;
  }

  function streamUrl() {
    var id = lastId();
    return id === null ? stream : stream.replace(/after_id=\d+/, 'after_id=' + id);
  }

  function cell(text, mono) {
    var td = document.createElement('td');
    if (mono) {
      td.className = 'mono';
    }
    td.textContent = text;
    return td;
  }

  function append(lines) {
    lines.forEach(function (line) {
      var tr = document.createElement('tr');
      tr.setAttribute('data-id', line.id);
      tr.className = 'level-' + line.level;
      tr.appendChild(cell(line.at, true));
      tr.appendChild(cell(line.level, false));
      tr.appendChild(cell(line.unit, true));
      tr.appendChild(cell(line.message, false));
      body.appendChild(tr);
    });
    while (body.children.length > max) {
      body.removeChild(body.firstElementChild);
    }
  }

  function connect() {
    source = new EventSource(streamUrl());
    source.addEventListener('events', function (event) {
      append(JSON.parse(event.data));
    });
    source.addEventListener('end', function () {
      source.close();
      state.textContent = 'The run has ended; this log is complete.';
    });
    source.addEventListener('error', function () {
      source.close();
      state.textContent = 'Connection lost — retrying…';
      setTimeout(function () {
        state.textContent = 'Following new events…';
        connect();
      }, 2000);
    });
  }

  connect();
})();
