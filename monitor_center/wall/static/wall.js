/*
 * The center's wall: every agency as a tile, the firing alerts, the national counters,
 * KPI bars and the ranking, all kept current from the live feed (/ws/live).
 *
 * Data flow: websocket message -> model (plain Maps) -> render on the next animation
 * frame. The DOM is built with createElement/textContent only: the page runs under a
 * Content-Security-Policy with Trusted Types, so parsing strings as HTML would be refused
 * anyway, and nothing an agency names itself can ever become markup.
 *
 * Tile colours (the worst wins): red when an endpoint is down; amber when no endpoint
 * is down but an alert about the agency is firing (slow portal, SLO burn, an outage that
 * is still being confirmed as resolved); grey when an endpoint's state is unknown (or
 * the agency has none); green when every endpoint is up.
 */
"use strict";

(() => {
  const TOKEN_KEY = "monitor-center:wall-token";
  const BACKOFF_FIRST_MS = 500;
  const BACKOFF_CAP_MS = 10000;
  const LEVEL4_TARGET_DEFAULT = 30;
  const KPI_ROWS = 6;
  const RANKING_ROWS = 8;
  // More rows than fit are clipped by the panel; this only bounds the work per render.
  const ALERT_ROWS = 60;
  // One attainment above this counts as this, so one runaway KPI cannot carry a ranking.
  const ATTAINMENT_CAP = 2;
  const TIME_ZONE = "Asia/Ho_Chi_Minh";

  const KINDS = ["platform", "ministry", "province"];
  const STATE_LABEL = {
    up: "Hoạt động",
    degraded: "Có cảnh báo",
    unknown: "Không rõ",
    down: "Gián đoạn",
  };
  const STATE_GLYPH = { up: "●", degraded: "▲", unknown: "?", down: "✖" };
  const FLAG_LABEL = {
    silenced: "tạm tắt · silenced",
    inhibited: "bị ức chế · inhibited",
    maintenance: "bảo trì · maintenance",
    flapping: "chập chờn · flapping",
  };
  const TRANSACTIONS = /trans|giao[\s_-]*d[iị]ch|(^|[^a-z])tx([^a-z]|$)/i;
  const LEVEL4 = /level[\s_-]*4|(^|[^a-z])l4([^a-z]|$)|m[uứ]c[\s_-]*(đ[oộ]|do)?[\s_-]*4/i;

  const numberFormat = new Intl.NumberFormat("vi-VN", { maximumFractionDigits: 0 });
  const decimalFormat = new Intl.NumberFormat("vi-VN", { maximumFractionDigits: 1 });
  const clockFormat = new Intl.DateTimeFormat("vi-VN", {
    timeZone: TIME_ZONE, hour: "2-digit", minute: "2-digit", second: "2-digit",
    day: "2-digit", month: "2-digit", year: "numeric",
  });
  const timeFormat = new Intl.DateTimeFormat("vi-VN", {
    timeZone: TIME_ZONE, hour: "2-digit", minute: "2-digit", second: "2-digit",
  });

  /** What the feed has told us; replaced by each snapshot, patched by each delta. */
  const model = {
    seq: null,
    agencies: new Map(),
    endpoints: new Map(),
    alerts: new Map(),
    series: new Map(),
    lastMessageAt: null,
  };

  /** The connection: at most one socket, and a timer while waiting to retry. */
  const feed = {
    socket: null,
    connected: false,
    everConnected: false,
    attempt: 0,
    timer: null,
    retryAt: null,
  };

  const tiles = new Map();
  let renderQueued = false;
  let detailAgency = null;
  let memoryToken = null;

  const $ = (id) => document.getElementById(id);

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // ---- token: from the URL fragment or the form, kept in localStorage -------------

  function readToken() {
    try {
      return localStorage.getItem(TOKEN_KEY) || memoryToken;
    } catch {
      return memoryToken; // storage disabled by policy or private mode
    }
  }

  function storeToken(token) {
    memoryToken = token;
    try {
      localStorage.setItem(TOKEN_KEY, token);
    } catch {
      /* kept in memory for this page only */
    }
  }

  function forgetToken() {
    memoryToken = null;
    try {
      localStorage.removeItem(TOKEN_KEY);
    } catch {
      /* nothing stored */
    }
  }

  /** Take ``#token=...`` and erase it from the address bar, history and bookmarks. */
  function adoptFragmentToken() {
    const params = new URLSearchParams(location.hash.slice(1));
    const token = params.get("token");
    if (token === null) return;
    params.delete("token");
    const rest = params.toString();
    history.replaceState(null, "", location.pathname + location.search + (rest ? "#" + rest : ""));
    if (token) storeToken(token);
  }

  function askForToken(problem) {
    const dialog = $("token-dialog");
    const error = $("token-error");
    error.textContent = problem || "";
    error.hidden = !problem;
    if (!dialog.open) dialog.showModal();
    $("token-input").focus();
  }

  function onTokenSubmit(event) {
    event.preventDefault();
    const token = $("token-input").value.trim();
    if (!token) return;
    $("token-input").value = "";
    $("token-dialog").close();
    storeToken(token);
    model.seq = null; // another token may see another scope: start from a snapshot
    reconnectNow();
  }

  // ---- the feed: connect, resume with since, back off exponentially ---------------

  function connect() {
    clearTimeout(feed.timer);
    feed.timer = null;
    feed.retryAt = null;
    const token = readToken();
    if (!token) {
      askForToken();
      return;
    }
    const query = new URLSearchParams({ token });
    if (model.seq !== null) query.set("since", String(model.seq));
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    let socket;
    try {
      socket = new WebSocket(`${scheme}//${location.host}/ws/live?${query}`);
    } catch {
      scheduleReconnect();
      return;
    }
    feed.socket = socket;
    let opened = false;
    socket.addEventListener("open", () => {
      // The server accepts only after checking the token and Origin, so open means in.
      opened = true;
      feed.attempt = 0;
      setConnected(true);
    });
    socket.addEventListener("message", (event) => onMessage(event.data));
    socket.addEventListener("close", () => {
      if (feed.socket !== socket) return; // replaced by a newer attempt
      feed.socket = null;
      setConnected(false);
      if (opened) scheduleReconnect();
      else checkTokenThenRetry(token);
    });
  }

  /** A refused handshake looks like a network error; ask the API whether it was the token. */
  async function checkTokenThenRetry(token) {
    try {
      const response = await fetch("/api/v1/alerts?limit=1", {
        headers: { Authorization: `Bearer ${token}` },
        cache: "no-store",
      });
      if (response.status === 401) {
        forgetToken();
        askForToken("Token không hợp lệ · the token was refused");
        return;
      }
    } catch {
      /* the server is unreachable: exactly what the retry is for */
    }
    scheduleReconnect();
  }

  function scheduleReconnect() {
    const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_FIRST_MS * 2 ** feed.attempt);
    // Jitter, so a room full of screens does not hammer a restarting server in step.
    const delay = Math.min(BACKOFF_CAP_MS, ceiling * (0.75 + Math.random() * 0.5));
    feed.attempt += 1;
    feed.retryAt = Date.now() + delay;
    feed.timer = setTimeout(connect, delay);
    renderFeedState();
  }

  function reconnectNow() {
    if (feed.socket) {
      const socket = feed.socket;
      feed.socket = null;
      socket.close();
    }
    feed.attempt = 0;
    connect();
  }

  function setConnected(connected) {
    feed.connected = connected;
    if (connected) feed.everConnected = true;
    renderFeedState();
  }

  // ---- messages into the model -----------------------------------------------------

  const HANDLERS = {
    snapshot: applySnapshot,
    endpoint: applyEndpoint,
    alert: applyAlert,
    series: applySeries,
  };

  function onMessage(data) {
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    if (!message || typeof message !== "object") return;
    const apply = HANDLERS[message.type];
    if (!apply) return; // a newer server may send types this page does not know
    const seq = typeof message.seq === "number" ? message.seq : null;
    const stale = message.type !== "snapshot" && seq !== null && model.seq !== null;
    if (stale && seq <= model.seq) return; // already applied (a replay overlapping)
    apply(message);
    if (seq !== null) model.seq = seq;
    model.lastMessageAt = Date.now();
    scheduleRender();
  }

  function applySnapshot(message) {
    model.agencies = byId(message.agencies);
    model.endpoints = byId(message.endpoints);
    model.alerts = new Map();
    for (const alert of list(message.alerts)) applyAlert(alert);
    // A server without series in its snapshot cannot say they are gone: keep ours.
    if (Array.isArray(message.series)) {
      const previous = model.series;
      model.series = new Map();
      for (const sample of message.series) applySeries(sample, previous);
    }
  }

  function applyEndpoint(message) {
    if (typeof message.id !== "string") return;
    model.endpoints.set(message.id, { ...model.endpoints.get(message.id), ...message });
  }

  function applyAlert(message) {
    if (message.id === undefined || message.id === null) return;
    const key = String(message.id);
    if (message.state === "resolved") model.alerts.delete(key);
    else model.alerts.set(key, message);
  }

  function applySeries(message, previousSeries) {
    if (typeof message.id !== "string") return;
    const previous = (previousSeries || model.series).get(message.id);
    model.series.set(message.id, { ...message, perMinute: perMinute(message, previous) });
  }

  function byId(items) {
    const map = new Map();
    for (const item of list(items)) if (item && typeof item.id === "string") map.set(item.id, item);
    return map;
  }

  function list(value) {
    return Array.isArray(value) ? value : [];
  }

  // ---- series: NGSP transactions per minute, level-4 share, KPIs --------------------

  /**
   * Per minute: the server's ``rate_per_minute`` (counters), else from a rate's unit,
   * else from the last two samples of a counter.
   */
  function perMinute(sample, previous) {
    if (finite(sample.rate_per_minute)) return Number(sample.rate_per_minute);
    const value = Number(sample.value);
    if (!Number.isFinite(value)) return previous ? previous.perMinute : null;
    const unit = String(sample.unit || "").toLowerCase();
    if (/(\/|per\s*)(min|minute|phút)/.test(unit)) return value;
    if (/(\/|per\s*)(s|sec|second|giây)\b/.test(unit)) return value * 60;
    if (/(\/|per\s*)(h|hour|giờ)\b/.test(unit)) return value / 60;
    if (/(\/|per\s*)(d|day|ngày)\b/.test(unit)) return value / 1440;
    if (!previous) return null;
    const seconds = (Date.parse(sample.time) - Date.parse(previous.time)) / 1000;
    if (!(seconds > 0)) return previous.perMinute;
    // A cumulative counter: a drop is a restart from zero, as Prometheus' rate() reads it.
    const increase = value >= previous.value ? value - previous.value : value;
    return (increase / seconds) * 60;
  }

  function describes(series, pattern) {
    return pattern.test(`${series.id} ${series.name || ""} ${series.unit || ""}`);
  }

  function finite(value) {
    const number = Number(value);
    return value !== null && value !== undefined && value !== "" && Number.isFinite(number);
  }

  function ngspPerMinute() {
    const candidates = [...model.series.values()]
      .filter((s) => s.agency === "ngsp" && describes(s, TRANSACTIONS) && finite(s.perMinute))
      .sort((a, b) => a.id.localeCompare(b.id));
    return candidates.length ? candidates[0] : null;
  }

  /** The national level-4 share: a national series if there is one, else the mean. */
  function level4Share() {
    const all = [...model.series.values()].filter((s) => describes(s, LEVEL4) && finite(s.value));
    if (!all.length) return null;
    const national = all.find((s) => !s.agency || kindOf(s.agency) === "platform");
    const target = finite((national || all[0]).target)
      ? Number((national || all[0]).target)
      : LEVEL4_TARGET_DEFAULT;
    if (national) return { value: Number(national.value), target, from: null };
    const mean = all.reduce((sum, s) => sum + Number(s.value), 0) / all.length;
    return { value: mean, target, from: all.length };
  }

  /** Value against target as a ratio; a "stay at or below" KPI (``max``) is inverted. */
  function attainment(series) {
    const value = Number(series.value);
    const target = Number(series.target);
    const direction = String(series.target_direction || series.direction || "");
    const lower = /^(max|below|lower)/i.test(direction);
    if (lower) return value > 0 ? target / value : ATTAINMENT_CAP;
    return target > 0 ? value / target : ATTAINMENT_CAP;
  }

  function kpiSeries() {
    return [...model.series.values()].filter((s) => finite(s.value) && finite(s.target));
  }

  // ---- derived state -----------------------------------------------------------------

  function kindOf(agencyId) {
    const agency = model.agencies.get(agencyId);
    return agency ? agency.kind : null;
  }

  function agencyName(agencyId) {
    const agency = model.agencies.get(agencyId);
    return agency ? agency.name : agencyId || "";
  }

  function firingAlerts() {
    return [...model.alerts.values()]
      .filter((a) => a.state === "firing")
      .sort((a, b) => alertTime(b) - alertTime(a));
  }

  function alertTime(alert) {
    const time = Date.parse(alert.fired_at || alert.started_at || "");
    return Number.isNaN(time) ? 0 : time;
  }

  function groupBy(items, key) {
    const groups = new Map();
    for (const item of items) {
      const k = key(item);
      if (!groups.has(k)) groups.set(k, []);
      groups.get(k).push(item);
    }
    return groups;
  }

  function agencyState(endpoints, firing) {
    if (endpoints.some((e) => e.state === "down")) return "down";
    if (firing.length) return "degraded";
    if (!endpoints.length || endpoints.some((e) => e.state !== "up")) return "unknown";
    return "up";
  }

  // ---- rendering ---------------------------------------------------------------------

  function scheduleRender() {
    if (renderQueued) return;
    renderQueued = true;
    requestAnimationFrame(() => {
      renderQueued = false;
      render();
    });
  }

  function render() {
    const endpointsBy = groupBy(model.endpoints.values(), (e) => e.agency);
    const firing = firingAlerts();
    const firingBy = groupBy(firing, (a) => a.agency);
    renderTiles(endpointsBy, firingBy);
    renderAlerts(firing);
    renderCounters(firing);
    renderKpis();
    renderRanking();
    if (detailAgency) renderDetail(detailAgency);
    document.body.classList.toggle("has-data", model.agencies.size > 0);
    tick();
  }

  function renderTiles(endpointsBy, firingBy) {
    for (const [id, tile] of tiles) {
      if (!model.agencies.has(id)) {
        tile.root.remove();
        tiles.delete(id);
      }
    }
    const counts = { platform: [0, 0], ministry: [0, 0], province: [0, 0] };
    for (const agency of model.agencies.values()) {
      const kind = KINDS.includes(agency.kind) ? agency.kind : "province";
      const tile = tiles.get(agency.id) || createTile(agency, kind);
      const endpoints = endpointsBy.get(agency.id) || [];
      const state = agencyState(endpoints, firingBy.get(agency.id) || []);
      updateTile(tile, agency, endpoints, state);
      counts[kind][1] += 1;
      if (state === "up") counts[kind][0] += 1;
    }
    for (const kind of KINDS) {
      const heading = document.querySelector(`.group[data-kind="${kind}"] .group-count`);
      const [ok, total] = counts[kind];
      heading.textContent = total ? `${ok}/${total}` : "";
    }
  }

  function createTile(agency, kind) {
    const root = el("button", "tile");
    root.type = "button";
    root.dataset.agency = agency.id;
    const glyph = el("span", "tile-glyph");
    glyph.setAttribute("aria-hidden", "true");
    const name = el("span", "tile-name");
    const meta = el("span", "tile-meta");
    root.append(glyph, name, meta);
    root.addEventListener("mouseenter", () => showDetail(agency.id));
    root.addEventListener("focus", () => showDetail(agency.id));
    root.addEventListener("mouseleave", hideDetail);
    root.addEventListener("blur", hideDetail);
    $(`tiles-${kind}`).append(root);
    const tile = { root, glyph, name, meta };
    tiles.set(agency.id, tile);
    return tile;
  }

  function updateTile(tile, agency, endpoints, state) {
    tile.root.className = `tile state-${state}`;
    tile.root.dataset.state = state;
    tile.glyph.textContent = STATE_GLYPH[state];
    tile.name.textContent = agency.name;
    tile.meta.textContent = tileMeta(endpoints, state);
    tile.root.setAttribute("aria-label", `${agency.name}: ${STATE_LABEL[state]}`);
  }

  function tileMeta(endpoints, state) {
    if (!endpoints.length) return "không có điểm đo";
    const up = endpoints.filter((e) => e.state === "up").length;
    const share = `${up}/${endpoints.length}`;
    const down = endpoints.find((e) => e.state === "down");
    if (state === "down" && down) return `${share} · ${down.reason || "down"}`;
    const latencies = endpoints.map((e) => e.latency_ms).filter(finite).map(Number);
    if (!latencies.length) return share;
    return `${share} · ${numberFormat.format(Math.max(...latencies))} ms`;
  }

  function renderAlerts(firing) {
    const listNode = $("alerts");
    const rows = firing.slice(0, ALERT_ROWS).map(alertRow);
    if (firing.length > ALERT_ROWS) {
      rows.push(el("li", "alert-more", `+${firing.length - ALERT_ROWS} cảnh báo khác`));
    }
    listNode.replaceChildren(...rows);
    listNode.classList.toggle("overflowing", listNode.scrollHeight > listNode.clientHeight);
    $("alerts-count").textContent = firing.length ? String(firing.length) : "";
    $("alerts-empty").hidden = firing.length > 0;
  }

  function alertRow(alert) {
    const flags = alert.flags || {};
    const suppressed = flags.silenced || flags.inhibited || flags.maintenance;
    const row = el("li", `alert severity-${safeClass(alert.severity)}${suppressed ? " suppressed" : ""}`);
    row.dataset.alertId = String(alert.id);
    row.dataset.subject = alert.subject || "";
    row.dataset.rule = alert.rule || "";
    const head = el("div", "alert-head");
    head.append(
      el("span", "alert-severity", alert.severity || "?"),
      el("span", "alert-agency", agencyName(alert.agency)),
      durationNode(alert.fired_at || alert.started_at),
    );
    const body = el("div", "alert-body");
    body.append(el("span", "alert-subject", alert.subject || ""));
    body.append(el("span", "alert-summary", alert.summary || alert.rule || ""));
    const foot = el("div", "alert-foot");
    foot.append(
      alert.acknowledged_by
        ? el("span", "ack ack-yes", `✓ ${alert.acknowledged_by} đã xác nhận`)
        : el("span", "ack ack-no", "chưa xác nhận · unacknowledged"),
    );
    for (const [flag, label] of Object.entries(FLAG_LABEL)) {
      if (flags[flag]) foot.append(el("span", `flag flag-${flag}`, label));
    }
    row.append(head, body, foot);
    return row;
  }

  function safeClass(value) {
    return String(value || "unknown").replace(/[^a-z0-9-]/gi, "");
  }

  function durationNode(since) {
    const node = el("time", "duration");
    node.dataset.since = since || "";
    if (since) node.dateTime = since;
    node.textContent = formatDuration(since);
    return node;
  }

  function renderCounters(firing) {
    const endpoints = [...model.endpoints.values()];
    const up = endpoints.filter((e) => e.state === "up").length;
    const down = endpoints.filter((e) => e.state === "down").length;
    const unknown = endpoints.length - up - down;
    setCounter("counter-endpoints", `${numberFormat.format(up)} / ${numberFormat.format(endpoints.length)}`,
      `${down} gián đoạn · ${unknown} không rõ`, down > 0 ? "bad" : unknown > 0 ? "warn" : "good");
    const critical = firing.filter((a) => a.severity === "critical").length;
    const unacked = firing.filter((a) => !a.acknowledged_by).length;
    setCounter("counter-alerts", numberFormat.format(firing.length),
      `${critical} nghiêm trọng · ${unacked} chưa xác nhận`,
      critical > 0 ? "bad" : firing.length > 0 ? "warn" : "good");
    const ngsp = ngspPerMinute();
    if (ngsp) {
      setCounter("counter-ngsp", numberFormat.format(ngsp.perMinute),
        `cập nhật ${timeFormat.format(new Date(Date.parse(ngsp.time) || Date.now()))}`, "neutral");
    } else {
      setCounter("counter-ngsp", "—", "Chưa có dữ liệu · no data yet", "none");
    }
    renderLevel4();
  }

  function renderLevel4() {
    const share = level4Share();
    const meter = document.querySelector('#counter-level4 [data-role="meter"]');
    if (!share) {
      setCounter("counter-level4", "—", "Chưa có dữ liệu · no data yet", "none");
      meter.hidden = true;
      return;
    }
    const origin = share.from ? ` (trung bình ${share.from} đơn vị)` : "";
    setCounter("counter-level4", `${decimalFormat.format(share.value)} %`,
      `mục tiêu ${decimalFormat.format(share.target)} %${origin}`,
      share.value >= share.target ? "good" : "warn");
    setMeter(meter, share.value / 100, share.target / 100);
    meter.hidden = false;
  }

  function setCounter(id, value, sub, tone) {
    const counter = $(id);
    counter.dataset.tone = tone;
    counter.querySelector('[data-role="value"]').textContent = value;
    counter.querySelector('[data-role="sub"]').textContent = sub;
  }

  /** Fill and target mark as fractions of the bar (CSSOM, which the CSP allows). */
  function setMeter(meter, fill, target) {
    const clamp = (x) => Math.max(0, Math.min(1, x));
    meter.style.setProperty("--fill", String(clamp(fill)));
    meter.style.setProperty("--target", String(clamp(target)));
  }

  function renderKpis() {
    const all = kpiSeries();
    const national = (s) => !s.agency || kindOf(s.agency) === "platform";
    const rows = all
      .sort((a, b) => Number(national(b)) - Number(national(a)) || attainment(a) - attainment(b))
      .slice(0, KPI_ROWS)
      .map(kpiRow);
    $("kpis").replaceChildren(...rows);
    $("kpis-empty").hidden = rows.length > 0;
  }

  function kpiRow(series) {
    const met = attainment(series) >= 1;
    const row = el("li", `kpi ${met ? "kpi-met" : "kpi-missed"}`);
    row.dataset.series = series.id;
    const unit = series.unit ? ` ${series.unit}` : "";
    const label = el("span", "kpi-label");
    label.append(el("span", "kpi-name", series.name || series.id));
    if (series.agency) label.append(el("span", "kpi-agency", agencyName(series.agency)));
    const figures = el("span", "kpi-figures",
      `${decimalFormat.format(Number(series.value))}${unit} / ${decimalFormat.format(Number(series.target))}${unit}`);
    const meter = el("span", "meter");
    meter.append(el("span", "meter-fill"), el("span", "meter-target"));
    // The bar spans a quarter past the target (or the value, if higher).
    const span = Math.max(Number(series.target) * 1.25, Number(series.value)) || 1;
    setMeter(meter, Number(series.value) / span, Number(series.target) / span);
    row.append(label, figures, meter);
    return row;
  }

  /** Ministries and provinces by mean KPI attainment (each capped at ATTAINMENT_CAP). */
  function renderRanking() {
    const byAgency = groupBy(
      kpiSeries().filter((s) => s.agency && kindOf(s.agency) !== "platform"),
      (s) => s.agency,
    );
    const ranked = [...byAgency.entries()]
      .map(([agency, series]) => ({
        agency,
        score: series.reduce((sum, s) => sum + Math.min(attainment(s), ATTAINMENT_CAP), 0) / series.length,
        kpis: series.length,
      }))
      .sort((a, b) => b.score - a.score || agencyName(a.agency).localeCompare(agencyName(b.agency), "vi"));
    const shown = ranked.length > RANKING_ROWS
      ? [...ranked.slice(0, RANKING_ROWS / 2), null, ...ranked.slice(-RANKING_ROWS / 2)]
      : ranked;
    const rows = shown.map((entry) => {
      if (entry === null) return el("li", "ranking-gap", "…");
      const row = el("li", `ranking-row ${entry.score >= 1 ? "kpi-met" : "kpi-missed"}`);
      row.dataset.agency = entry.agency;
      row.append(
        el("span", "ranking-rank", `${ranked.indexOf(entry) + 1}.`),
        el("span", "ranking-name", agencyName(entry.agency)),
        el("span", "ranking-score", `${decimalFormat.format(entry.score * 100)} %`),
      );
      return row;
    });
    $("ranking").replaceChildren(...rows);
    $("ranking-empty").hidden = rows.length > 0;
  }

  // ---- the detail panel (hover or keyboard focus on a tile) ---------------------------

  function showDetail(agencyId) {
    detailAgency = agencyId;
    renderDetail(agencyId);
  }

  function hideDetail() {
    detailAgency = null;
    $("detail").hidden = true;
  }

  function renderDetail(agencyId) {
    const agency = model.agencies.get(agencyId);
    const tile = tiles.get(agencyId);
    const panel = $("detail");
    if (!agency || !tile) {
      hideDetail();
      return;
    }
    const endpoints = [...model.endpoints.values()].filter((e) => e.agency === agencyId);
    const rows = endpoints.map((e) => {
      const row = el("li", `detail-endpoint state-text-${safeClass(e.state)}`);
      row.append(
        el("span", "detail-state", `${STATE_GLYPH[e.state] || "?"} ${STATE_LABEL[e.state] || e.state}`),
        el("span", "detail-id", e.id),
        el("span", "detail-latency", finite(e.latency_ms) ? `${numberFormat.format(e.latency_ms)} ms` : "—"),
        el("span", "detail-reason", e.reason || ""),
      );
      return row;
    });
    const alerts = firingAlerts().filter((a) => a.agency === agencyId)
      .map((a) => el("li", "detail-alert", `${a.severity}: ${a.summary || a.rule}`));
    const dependsOn = list(agency.depends_on).map(agencyName).join(", ");
    panel.replaceChildren(
      el("h3", "detail-title", agency.name),
      el("p", "detail-kind", dependsOn ? `phụ thuộc · depends on: ${dependsOn}` : agency.id),
      listOf("ul", "detail-endpoints", rows.length ? rows : [el("li", null, "không có điểm đo")]),
      listOf("ul", "detail-alerts", alerts),
    );
    panel.hidden = false;
    placeDetail(panel, tile.root.getBoundingClientRect());
  }

  function listOf(tag, className, items) {
    const node = el(tag, className);
    node.append(...items);
    return node;
  }

  /** Beside the tile, kept inside the viewport. */
  function placeDetail(panel, rect) {
    const margin = 8;
    const width = panel.offsetWidth;
    const height = panel.offsetHeight;
    let left = rect.right + margin;
    if (left + width > window.innerWidth) left = Math.max(margin, rect.left - width - margin);
    const top = Math.min(Math.max(margin, rect.top), Math.max(margin, window.innerHeight - height - margin));
    panel.style.left = `${left}px`;
    panel.style.top = `${top}px`;
  }

  // ---- the feed state, the clock and durations (every second) --------------------------

  function renderFeedState() {
    const lost = !feed.connected && (feed.everConnected || feed.attempt > 0);
    document.body.classList.toggle("stale", !feed.connected);
    $("feed-banner").hidden = !lost;
    const status = $("feed-status");
    status.dataset.feed = feed.connected ? "live" : lost ? "lost" : "connecting";
    status.textContent = feed.connected
      ? "Trực tuyến · live"
      : lost ? "Mất kết nối · stale" : "Đang kết nối… · connecting";
    const retry = $("feed-banner-retry");
    if (feed.retryAt !== null) {
      const seconds = Math.max(0, Math.ceil((feed.retryAt - Date.now()) / 1000));
      retry.textContent = `thử lại sau ${seconds} s · retry in ${seconds} s (lần ${feed.attempt})`;
    } else {
      retry.textContent = feed.socket ? "đang thử lại… · retrying" : "";
    }
  }

  function tick() {
    const now = Date.now();
    $("clock").textContent = clockFormat.format(new Date(now));
    for (const node of document.querySelectorAll("time.duration")) {
      node.textContent = formatDuration(node.dataset.since, now);
    }
    const last = model.lastMessageAt;
    $("last-update").textContent = last
      ? `Cập nhật lần cuối ${timeFormat.format(new Date(last))} · last update`
      : "Chưa nhận dữ liệu · waiting for the feed";
    if (!feed.connected) renderFeedState();
  }

  function formatDuration(since, now = Date.now()) {
    const start = Date.parse(since || "");
    if (Number.isNaN(start)) return "";
    let seconds = Math.max(0, Math.floor((now - start) / 1000));
    const days = Math.floor(seconds / 86400);
    seconds -= days * 86400;
    const hours = Math.floor(seconds / 3600);
    seconds -= hours * 3600;
    const minutes = Math.floor(seconds / 60);
    seconds -= minutes * 60;
    const pad = (n) => String(n).padStart(2, "0");
    if (days) return `${days} ngày ${hours} giờ`;
    if (hours) return `${hours} giờ ${pad(minutes)} phút`;
    if (minutes) return `${minutes} phút ${pad(seconds)} giây`;
    return `${seconds} giây`;
  }

  // ---- start --------------------------------------------------------------------------

  function start() {
    adoptFragmentToken();
    $("token-form").addEventListener("submit", onTokenSubmit);
    $("change-token").addEventListener("click", () => askForToken());
    // Back on the network (a laptop waking up): do not wait out the backoff.
    window.addEventListener("online", () => {
      if (!feed.connected) reconnectNow();
    });
    window.addEventListener("hashchange", () => {
      if (new URLSearchParams(location.hash.slice(1)).has("token")) {
        adoptFragmentToken();
        model.seq = null;
        reconnectNow();
      }
    });
    setInterval(tick, 1000);
    tick();
    renderFeedState();
    connect();
  }

  start();
})();
