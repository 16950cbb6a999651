// Hub screen: polls its data document, renders it, and never shows an old number as live.
"use strict";
(function () {
  const config = JSON.parse(document.getElementById("screen-config").textContent);
  const fmtTime = new Intl.DateTimeFormat("fr-FR", {
    timeZone: config.zone, hour: "2-digit", minute: "2-digit",
  });
  let lastGood = null;      // the last document received
  let lastGoodAt = null;    // when (client clock) it was received
  let skewMs = 0;           // server clock minus client clock, from the last document
  let failures = 0;

  const el = (tag, cls, text) => {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  };
  const serverNow = () => new Date(Date.now() + skewMs);
  const time = (iso) => fmtTime.format(new Date(iso));
  const ago = (iso) => {
    const min = Math.max(0, Math.floor((serverNow() - new Date(iso)) / 60000));
    return min < 1 ? "mis à jour à l'instant" : `mis à jour il y a ${min} min`;
  };

  function renderAreas(areas, live) {
    const box = document.getElementById("areas");
    box.replaceChildren();
    for (const a of areas) {
      const shown = live && a.live;
      const closed = a.status === "closed";
      const card = el("article", "area " + (shown ? a.status : (closed ? "closed" : "unknown")));
      card.dataset.area = a.id_lieu;
      const head = el("div", "head");
      head.append(el("h3", "", a.name));
      const numbers = el("div", "numbers");
      numbers.append(el("span", "count", shown ? String(a.free) : "—"));
      if (shown) {
        numbers.append(el("span", "unit", a.free === 1 ? "place libre" : "places libres"));
        const arrow = { up: "↑", down: "↓", steady: "→" }[a.trend];
        const label = {
          up: "des places se libèrent", down: "des places se remplissent", steady: "stable",
        }[a.trend];
        const trend = el("span", "trend", arrow);
        trend.setAttribute("aria-label", label);
        trend.title = label;
        numbers.append(trend);
        head.append(el("p", "pmr", `♿ PMR : ${a.pmr_free} / ${a.pmr_total}`));
        head.append(el("p", "updated", ago(a.last_update)));
      } else if (!closed) {
        head.append(el("p", "updated", a.last_update
          ? `Dernière mise à jour : ${time(a.last_update)}` : "Aucune donnée reçue"));
      }
      const status = shown ? a.status_fr : (closed ? "Fermé" : "Données indisponibles");
      card.append(head, numbers, el("p", "status", status));
      box.append(card);
    }
  }

  function contrast(hexA, hexB) {
    const lum = (hex) => {
      const c = [0, 2, 4].map((i) => parseInt(hex.substr(i, 2), 16) / 255)
        .map((v) => (v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4)));
      return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
    };
    const [x, y] = [lum(hexA), lum(hexB)].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05);
  }

  function renderDepartures(d, live) {
    const state = document.getElementById("transit-state");
    const body = document.querySelector("#departures tbody");
    const alerts = document.getElementById("transit-alerts");
    body.replaceChildren();
    alerts.replaceChildren();
    const section = document.getElementById("transit");
    section.hidden = !d.configured;
    if (!d.configured) return;
    if (!live || !d.available) {
      state.textContent = "Horaires indisponibles";
      return;
    }
    state.textContent = d.realtime === "live" ? "Temps réel"
      : d.realtime === "stale"
        ? "Horaires théoriques : temps réel indisponible" + (d.realtime_at ? ` depuis ${time(d.realtime_at)}` : "")
        : "Horaires théoriques";
    if (d.items.length === 0) {
      const row = el("tr");
      const cell = el("td", "", "Aucun départ dans les deux prochaines heures");
      cell.colSpan = 4;
      row.append(cell);
      body.append(row);
    }
    for (const item of d.items) {
      const row = el("tr", item.cancelled ? "cancelled" : "");
      const badge = el("span", "line", item.line);
      const bg = item.line_color, fg = item.line_text_color;
      const text = contrast(bg, fg) >= 4.5 ? fg : (contrast(bg, "000000") >= contrast(bg, "FFFFFF") ? "000000" : "FFFFFF");
      badge.style.background = "#" + bg;
      badge.style.color = "#" + text;
      const lineCell = el("td");
      lineCell.append(badge);
      const minutes = Math.round((new Date(item.expected_at) - serverNow()) / 60000);
      const when = minutes <= 0 ? "à l'arrêt" : minutes < 60 ? `${minutes} min` : time(item.expected_at);
      let info = item.realtime ? "à l'heure" : "horaire prévu";
      let infoCls = "info";
      if (item.cancelled) info = "Supprimé";
      else if (item.delay_min !== null && item.delay_min >= 1) { info = `retard ${item.delay_min} min`; infoCls += " late"; }
      else if (item.delay_min !== null && item.delay_min <= -1) info = `avance ${-item.delay_min} min`;
      row.append(lineCell, el("td", "", item.headsign), el("td", "when", when), el("td", infoCls, info));
      body.append(row);
    }
    for (const a of d.alerts) alerts.append(el("li", "", a.description ? `${a.header} : ${a.description}` : a.header));
  }

  function renderMessages(doc, live) {
    const box = document.getElementById("messages");
    box.replaceChildren();
    if (!live) return;
    for (const v of doc.vigilance) {
      box.append(el("p", `message vigilance ${v.colour}`,
        `Vigilance crues ${v.colour_fr} : ${v.station}, depuis ${time(v.since)}`));
    }
    for (const m of doc.messages) box.append(el("p", `message ${m.severity}`, m.text));
  }

  function render() {
    const now = serverNow();
    document.getElementById("clock").textContent = fmtTime.format(now);
    const banner = document.getElementById("connection");
    if (!lastGood) {
      banner.hidden = false;
      banner.textContent = "Connexion au serveur… données indisponibles";
      return;
    }
    // The whole screen is stale when the server has not answered for a while: its numbers are
    // hidden, not frozen.
    const live = Date.now() - lastGoodAt <= config.max_silence_s * 1000;
    banner.hidden = live;
    if (!live) banner.textContent = `Données indisponibles depuis ${time(lastGood.generated_at)}`;
    document.getElementById("hub-name").textContent = lastGood.hub.name;
    renderAreas(lastGood.areas, live);
    renderDepartures(lastGood.departures, live);
    renderMessages(lastGood, live);
  }

  async function poll() {
    try {
      const response = await fetch(config.data_url, { cache: "no-store" });
      if (!response.ok) throw new Error(String(response.status));
      const doc = await response.json();
      lastGood = doc;
      lastGoodAt = Date.now();
      skewMs = new Date(doc.generated_at) - Date.now();
      failures = 0;
      document.body.dataset.updatedAt = doc.generated_at;
    } catch (err) {
      failures += 1;  // the API restarting, the network down: try again, a bit later each time
    }
    render();
    const delay = Math.min(config.refresh_s * 1000 * Math.pow(1.5, failures), 60000);
    setTimeout(poll, delay);
  }

  setInterval(render, 15000);
  poll();
})();
