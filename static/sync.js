// The live sync dashboard (/sync): keeps the tenant cards current.
//
// Transport: server-sent events from /sync/events (every card on connect, then the cards
// that changed, and a ping every few seconds of quiet). When the stream breaks, the page says
// "Connection lost — retrying", fetches /sync/cards until the server answers, then reconnects.
// A stream that keeps failing while the JSON answers (a proxy that buffers) makes the page
// poll /sync/cards instead. Without JavaScript the page is a snapshot; a reload refreshes it.
(function () {
  'use strict';

  var root = document.querySelector('[data-sync-dashboard]');
  if (!root) {
    return;
  }
  var grid = root.querySelector('[data-cards-grid]');
  var template = document.getElementById('sync-card-template');
  var state = root.querySelector('[data-connection]');
  var empty = root.querySelector('[data-empty]');
  var charts = document.querySelector('[data-charts-grid]');
  var chartsPanel = document.querySelector('[data-charts-panel]');
  var eventsUrl = root.getAttribute('data-events');
  var cardsUrl = root.getAttribute('data-cards');

  var SILENCE_MS = 12000; // two missed pings: the stream is dead even if no error said so
  var POLL_MS = 2000;
  var RETRY_MS = 1500;
  var source = null;
  var lastHeard = Date.now();
  var failures = 0;
  var polling = false;
  var timer = null;
  var stopped = false;

  var COUNTS = ['users_count', 'groups_count', 'apps_count', 'policies_count', 'devices_count'];
  var BADGES = {
    running: 'badge sync-running',
    completed: 'badge ok',
    failed: 'badge bad',
    canceled: 'badge warn'
  };

  function setState(name, text) {
    state.setAttribute('data-connection', name);
    state.textContent = text;
  }

  function field(card, name) {
    return card.querySelector('[data-field="' + name + '"]');
  }

  function setText(card, name, text) {
    var el = field(card, name);
    if (el && el.textContent !== text) {
      el.textContent = text;
    }
  }

  // "2026-11-22T19:03:00Z" -> "2026-11-22 19:03 UTC", as the server renders times.
  function when(iso) {
    return iso ? iso.slice(0, 10) + ' ' + iso.slice(11, 16) + ' UTC' : '—';
  }

  function pad(n) {
    return n < 10 ? '0' + n : String(n);
  }

  // Seconds -> "45s", "12m 05s", "3h 07m", "2d 4h", as the server renders durations.
  function duration(seconds) {
    var s = Math.max(0, Math.floor(seconds));
    if (s < 60) {
      return s + 's';
    }
    if (s < 3600) {
      return Math.floor(s / 60) + 'm ' + pad(s % 60) + 's';
    }
    if (s < 86400) {
      return Math.floor(s / 3600) + 'h ' + pad(Math.floor((s % 3600) / 60)) + 'm';
    }
    return Math.floor(s / 86400) + 'd ' + Math.floor((s % 86400) / 3600) + 'h';
  }

  function between(startIso, endIso) {
    var start = Date.parse(startIso);
    var end = endIso ? Date.parse(endIso) : Date.now();
    return (end - start) / 1000;
  }

  function firstLine(text) {
    var line = (text || '').split('\n')[0];
    return line.length > 160 ? line.slice(0, 160) + '…' : line;
  }

  // The child of `parent` whose `attribute` is `value`, and the one a new child goes before
  // (children are in tenant order).
  function place(parent, attribute, value) {
    var children = parent.querySelectorAll('[' + attribute + ']');
    var before = null;
    for (var i = 0; i < children.length; i += 1) {
      var key = children[i].getAttribute(attribute);
      if (key === value) {
        return { found: children[i], before: null };
      }
      if (before === null && key > value) {
        before = children[i];
      }
    }
    return { found: null, before: before };
  }

  function findCard(tenant) {
    return place(grid, 'data-tenant', tenant).found;
  }

  // The chart changes when a sync starts or ends: fetch the tenant's server-rendered chart.
  function refreshChart(card, data) {
    var key = (data.sync ? data.sync.id : 0) + ':' + data.status;
    if (card.getAttribute('data-chart-key') === key) {
      return;
    }
    card.setAttribute('data-chart-key', key);
    if (!charts) {
      return;
    }
    var url = charts.getAttribute('data-chart-url') + '?tenant_id=' + encodeURIComponent(data.tenant_id);
    fetch(url, { credentials: 'same-origin', cache: 'no-store' }).then(function (response) {
      if (!response.ok || response.redirected) {
        throw new Error('status ' + response.status);
      }
      return response.text();
    }).then(function (html) {
      var parsed = new DOMParser().parseFromString(html, 'text/html').body.firstElementChild;
      if (!parsed) {
        return;
      }
      var figure = document.importNode(parsed, true);
      var spot = place(charts, 'data-chart', data.tenant_id);
      if (spot.found) {
        charts.replaceChild(figure, spot.found);
      } else {
        charts.insertBefore(figure, spot.before);
      }
      chartsPanel.hidden = false;
    }).catch(function () {
      // The chart stays as it was; the next change or a reload brings it up to date.
    });
  }

  // A card for a tenant seen for the first time, placed in tenant order.
  function newCard(tenant) {
    var card = template.content.firstElementChild.cloneNode(true);
    card.setAttribute('data-tenant', tenant);
    grid.insertBefore(card, place(grid, 'data-tenant', tenant).before);
    if (empty) {
      empty.hidden = true;
    }
    return card;
  }

  function apply(data) {
    var card = findCard(data.tenant_id) || newCard(data.tenant_id);
    var sync = data.sync;
    card.setAttribute('data-sync-id', sync ? String(sync.id) : '0');
    setText(card, 'tenant_id', data.tenant_id);
    var status = field(card, 'status');
    status.textContent = data.status;
    status.className = BADGES[data.status] || 'badge';
    field(card, 'progress_bar').value = data.progress;
    setText(card, 'progress', data.progress + '%');
    var counts = data.entity_counts;
    var values = [counts.users, counts.groups, counts.apps, counts.policies, counts.devices];
    for (var i = 0; i < COUNTS.length; i += 1) {
      setText(card, COUNTS[i], String(values[i]));
    }
    setText(card, 'sync_type', sync ? sync.sync_type : '');
    setText(card, 'start_time', sync ? when(sync.start_time) : '—');
    var elapsed = field(card, 'elapsed');
    elapsed.setAttribute('data-start', sync ? sync.start_time : '');
    elapsed.setAttribute('data-end', sync && sync.end_time ? sync.end_time : '');
    elapsed.textContent = sync ? duration(between(sync.start_time, sync.end_time)) : '—';
    var done = data.last_completed;
    setText(card, 'last_completed', done
      ? when(done.start_time) + ' (took ' + duration(between(done.start_time, done.end_time)) + ')'
      : 'never');
    showError(card, data.last_error);
    var detail = field(card, 'detail');
    if (detail) {
      detail.hidden = !sync;
      detail.setAttribute('href', sync ? '/sync/' + sync.id : '#');
    }
    var cancel = field(card, 'cancel');
    if (cancel) {
      cancel.hidden = data.status !== 'running';
      if (sync) {
        cancel.setAttribute('action', '/sync/' + sync.id + '/cancel');
      }
    }
    refreshChart(card, data);
  }

  function showError(card, failed) {
    var holder = field(card, 'last_error');
    var text = failed ? when(failed.start_time) + ': ' + firstLine(failed.error_details) : 'none';
    var current = field(card, 'last_error_text');
    var wantLink = Boolean(failed);
    if (!current || (current.tagName === 'A') !== wantLink) {
      var replacement = document.createElement(wantLink ? 'a' : 'span');
      replacement.setAttribute('data-field', 'last_error_text');
      holder.textContent = '';
      holder.appendChild(replacement);
      current = replacement;
    }
    if (wantLink) {
      current.setAttribute('href', '/sync/' + failed.id);
    }
    if (current.textContent !== text) {
      current.textContent = text;
    }
  }

  function applyAll(cards) {
    for (var i = 0; i < cards.length; i += 1) {
      apply(cards[i]);
    }
  }

  function heard() {
    lastHeard = Date.now();
  }

  function later(fn, ms) {
    clearTimeout(timer);
    timer = setTimeout(fn, ms);
  }

  function connect() {
    if (stopped) {
      return;
    }
    if (polling || !window.EventSource) {
      poll();
      return;
    }
    heard();
    source = new EventSource(eventsUrl);
    source.addEventListener('cards', function (event) {
      heard();
      failures = 0;
      setState('live', 'Live');
      applyAll(JSON.parse(event.data));
    });
    source.addEventListener('ping', heard);
    source.addEventListener('error', lost);
  }

  function lost() {
    if (source) {
      source.close();
      source = null;
    }
    failures += 1;
    setState('lost', 'Connection lost — retrying…');
    later(recover, RETRY_MS);
  }

  // The page's session ended (the answer is the sign-in page): retrying cannot help.
  function signedOut(response) {
    return response.redirected && response.url.indexOf('/login') !== -1;
  }

  function fetchCards() {
    return fetch(cardsUrl, {
      credentials: 'same-origin',
      cache: 'no-store',
      headers: { Accept: 'application/json' }
    }).then(function (response) {
      if (signedOut(response)) {
        stopped = true;
        setState('signed-out', 'Signed out — reload the page to sign in again.');
        return null;
      }
      var type = response.headers.get('Content-Type') || '';
      if (!response.ok || type.indexOf('application/json') !== 0) {
        throw new Error('status ' + response.status);
      }
      return response.json();
    });
  }

  function recover() {
    fetchCards().then(function (cards) {
      if (!cards) {
        return;
      }
      applyAll(cards);
      if (failures >= 5) {
        // The server answers but the stream keeps breaking: poll instead.
        polling = true;
      }
      if (polling) {
        setState('polling', 'Live (polling)');
        later(poll, POLL_MS);
      } else {
        setState('live', 'Live');
        connect();
      }
    }).catch(function () {
      setState('lost', 'Connection lost — retrying…');
      later(recover, RETRY_MS);
    });
  }

  function poll() {
    fetchCards().then(function (cards) {
      if (!cards) {
        return;
      }
      applyAll(cards);
      setState('polling', 'Live (polling)');
      later(poll, POLL_MS);
    }).catch(function () {
      setState('lost', 'Connection lost — retrying…');
      later(poll, RETRY_MS);
    });
  }

  // Elapsed times of running syncs tick; a stream silent past two pings is treated as lost.
  setInterval(function () {
    var fields = grid.querySelectorAll('[data-field="elapsed"]');
    for (var i = 0; i < fields.length; i += 1) {
      var start = fields[i].getAttribute('data-start');
      if (start && !fields[i].getAttribute('data-end')) {
        fields[i].textContent = duration(between(start, null));
      }
    }
    if (source && Date.now() - lastHeard > SILENCE_MS) {
      lost();
    }
  }, 1000);

  window.addEventListener('pagehide', function () {
    stopped = true;
    if (source) {
      source.close();
    }
  });

  window.addEventListener('pageshow', function (event) {
    if (event.persisted) {
      stopped = false;
      connect();
    }
  });

  setState('connecting', 'Connecting…');
  connect();
}());
