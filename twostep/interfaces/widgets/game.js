// The two-step game, played in the browser (see game.py for where the numbers come from).
//
// playTrial and stayProbabilities are pure functions of their arguments, exported so that the
// tests can run them under node and compare them with the package's TwoStepTask and
// twostep.analysis.stay_probabilities.

export const CONDITIONS = [
  "rewarded_common", "rewarded_uncommon", "unrewarded_common", "unrewarded_uncommon",
];

// One trial of `game` (the task's draws) with `choice` (0 or 1) on trial `trial`.
// The task compares float32 numbers, hence Math.fround on the probabilities.
export function playTrial(game, rule, trial, choice) {
  const good = game.good_state[trial];
  const common = game.transition_uniform[trial] < Math.fround(rule.common_prob) ? 1 : 0;
  const state = common ? choice : 1 - choice;
  const pReward = state === good ? rule.reward_prob_good : rule.reward_prob_bad;
  const reward = game.reward_uniform[trial] < Math.fround(pReward) ? 1 : 0;
  return { trial, choice, state, common, reward, good_state: good };
}

// P(stay) per condition of the previous trial, as twostep.analysis.stay_probabilities:
// trial t (t >= 1) stays when its choice equals trial t-1's; the condition is trial t-1's
// (rewarded or not, common or uncommon). Returns [{condition, stay_probability, n}] in
// CONDITIONS order; stay_probability is null where n is 0.
export function stayProbabilities(history) {
  const stays = [0, 0, 0, 0];
  const counts = [0, 0, 0, 0];
  for (let t = 1; t < history.length; t++) {
    const previous = history[t - 1];
    const code = 2 * (previous.reward > 0 ? 0 : 1) + (previous.common === 1 ? 0 : 1);
    counts[code] += 1;
    stays[code] += history[t].choice === previous.choice ? 1 : 0;
  }
  return CONDITIONS.map((condition, i) => ({
    condition,
    stay_probability: counts[i] ? stays[i] / counts[i] : null,
    n: counts[i],
  }));
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// Bars of the player's stay probabilities, with the published network's values as ticks.
function stayChart(stay, labels, colours, published) {
  const ns = "http://www.w3.org/2000/svg";
  const width = 360, height = 200, left = 40, bottom = 40, top = 14, bar = 56, gap = 22;
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("width", width);
  svg.setAttribute("height", height);
  svg.setAttribute("class", "twostep-game-chart");
  const y = (p) => top + (1 - p) * (height - top - bottom);
  const add = (tag, attributes, text) => {
    const node = document.createElementNS(ns, tag);
    for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    svg.appendChild(node);
    return node;
  };
  for (const p of [0, 0.5, 1]) {
    add("line", { x1: left, x2: width - 8, y1: y(p), y2: y(p), stroke: "#ccc" });
    add("text", { x: left - 6, y: y(p) + 4, "text-anchor": "end", "font-size": 11 }, p.toFixed(1));
  }
  stay.forEach((row, i) => {
    const x = left + 14 + i * (bar + gap);
    if (row.stay_probability !== null) {
      add("rect", { x, y: y(row.stay_probability), width: bar,
                    height: y(0) - y(row.stay_probability), fill: colours[row.condition],
                    opacity: 0.85 });
      add("text", { x: x + bar / 2, y: y(row.stay_probability) - 3, "text-anchor": "middle",
                    "font-size": 11 }, row.stay_probability.toFixed(2));
    }
    const theirs = published[row.condition];
    add("line", { x1: x - 4, x2: x + bar + 4, y1: y(theirs), y2: y(theirs), stroke: "black",
                  "stroke-width": 2, "stroke-dasharray": "4 2" });
    add("text", { x: x + bar / 2, y: height - bottom + 15, "text-anchor": "middle",
                  "font-size": 12 }, labels[row.condition]);
    add("text", { x: x + bar / 2, y: height - bottom + 29, "text-anchor": "middle",
                  "font-size": 10, fill: "#555" }, `n = ${row.n}`);
  });
  return svg;
}

function describe(row) {
  const transition = row.common ? "common" : "uncommon";
  const reward = row.reward ? "reward 1" : "no reward";
  return `trial ${row.trial + 1}: you chose ${row.choice} → ${transition} transition → ` +
    `state ${row.state} → ${reward}`;
}

function render({ model, el }) {
  const trials = model.get("trials");
  const games = model.get("games");
  const rule = model.get("rule");
  let gameIndex = 0;
  let history = [];

  const root = element("div", "twostep-game");
  const controls = element("div", "twostep-game-controls");
  const buttons = [0, 1].map((k) => {
    const button = element("button", "twostep-game-choice", `choose ${k}`);
    button.dataset.choice = String(k);
    controls.appendChild(button);
    return button;
  });
  const restart = element("button", "twostep-game-restart", "new game");
  controls.appendChild(restart);
  const status = element("div", "twostep-game-status");
  const log = element("ol", "twostep-game-history");
  const result = element("div", "twostep-game-result");
  root.append(controls, status, log, result);
  el.appendChild(root);

  function sendHistory() {
    model.set("history", history.slice());
    try {
      model.save_changes();  // reaches Python when a kernel is live; a no-op in a static page
    } catch (error) {
      /* no kernel: the game still works */
    }
  }

  function start() {
    history = [];
    log.replaceChildren();
    result.replaceChildren();
    buttons.forEach((b) => { b.disabled = false; });
    status.textContent = `Game ${gameIndex + 1}. Trial 1 of ${trials}. Choose 0 or 1.`;
    sendHistory();
  }

  function finish(rewards) {
    buttons.forEach((b) => { b.disabled = true; });
    status.textContent = `Done: ${rewards} rewards in ${trials} trials ` +
      `(an ideal observer averages ${Math.round(model.get("ideal_reward"))}).`;
    const stay = stayProbabilities(history);
    result.append(
      element("div", "twostep-game-result-title",
              "Your stay probabilities (bars) and the trained network of Wang et al. 2018 (dashed)"),
      stayChart(stay, model.get("labels"), model.get("colours"), model.get("published")),
    );
  }

  function choose(choice) {
    if (history.length >= trials) return;
    const row = playTrial(games[gameIndex], rule, history.length, choice);
    history.push(row);
    const item = element("li", row.common ? "common" : "uncommon", describe(row));
    log.prepend(item);
    const rewards = history.reduce((sum, r) => sum + r.reward, 0);
    sendHistory();
    if (history.length < trials) {
      status.textContent = `Game ${gameIndex + 1}. Trial ${history.length + 1} of ${trials}. ` +
        `Rewards so far: ${rewards}.`;
    } else {
      finish(rewards);
    }
  }

  buttons.forEach((button, k) => button.addEventListener("click", () => choose(k)));
  restart.addEventListener("click", () => {
    gameIndex = (gameIndex + 1) % games.length;
    start();
  });
  start();
}

export default { render };
