// The courier app's entry (/app/): configuration, language, the session,
// the outbox model, the service worker, and the screens by location hash:
// #/ the day, #/stop/{order_id}, #/end.
import { Api } from '../api.js';
import { h, fill } from '../dom.js';
import { makeFormat } from '../format.js';
import { setLanguage, addWords, language, t } from '../i18n.js';
import { words } from './words.js';
import { Model } from './model.js';
import { Tracker } from './gps.js';
import { shiftOpen } from './day.js';
import { header, banners, netStatus } from './chrome.js';
import { loginScreen } from './login.js';
import { homeScreen } from './home.js';
import { stopScreen } from './stop.js';
import { endScreen } from './end.js';

const CONFIG_KEY = 'courier.app.config';
const root = document.getElementById('app');

/** The company's configuration: from the server, else the copy saved last time (offline). */
async function config() {
  try {
    const res = await fetch('config.json', { cache: 'no-store' });
    if (!res.ok) throw new Error(String(res.status));
    const cfg = await res.json();
    localStorage.setItem(CONFIG_KEY, JSON.stringify(cfg));
    return cfg;
  } catch {
    try {
      const saved = JSON.parse(localStorage.getItem(CONFIG_KEY) || 'null');
      if (saved) return saved;
    } catch { /* fall through */ }
    return { time_zone: 'UTC', currency: 'RUB', language: 'ru', company: '', date: '' };
  }
}

async function boot() {
  addWords(words);
  setLanguage(navigator.languages?.[0] || navigator.language || 'en');
  const cfg = await config();
  const fmt = makeFormat({ ...cfg, language: language() });
  const api = new Api('', { storage: localStorage, key: 'courier.app.session' });
  const model = new Model(api, cfg);
  const ctx = { api, cfg, fmt, model, root, tracker: null, screen: null };
  ctx.tracker = new Tracker(model);
  ctx.render = () => render(ctx);
  ctx.go = (hash) => {
    if (location.hash === hash) render(ctx);
    else location.hash = hash;
  };
  api.onLogout = () => { ctx.tracker.stop(); render(ctx); };
  window.addEventListener('hashchange', () => render(ctx));
  window.addEventListener('online', () => model.kick());
  window.addEventListener('offline', () => model.setOnline(false));
  document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible') model.kick(); });
  setInterval(() => { if (api.loggedIn && !model.sending) model.sync(); }, 60000);
  model.addEventListener('change', () => refreshChrome(ctx));
  window.courierApp = ctx; // for the browser tests and for support on a phone
  registerWorker(ctx);
  if (api.loggedIn) await model.load();
  render(ctx);
  model.kick();
}

/**
 * The service worker keeps the app for offline use. A new version (a new
 * worker took over) is loaded the next time the courier is on the day's
 * screen, never in the middle of a form.
 */
function registerWorker(ctx) {
  if (!('serviceWorker' in navigator)) return;
  let had = !!navigator.serviceWorker.controller;
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    if (had) ctx.updateReady = true;
    had = true;
  });
  navigator.serviceWorker.register('sw.js', { scope: './' }).catch((e) => console.warn('service worker', e));
}

/** Redraws the header and banners, and the screen when the day changed under it. */
function refreshChrome(ctx) {
  if (!ctx.chrome) return;
  fill(ctx.chrome.banners, banners(ctx));
  const net = netStatus(ctx);
  ctx.chrome.status.replaceWith(net);
  ctx.chrome.status = net;
  const day = ctx.model.view();
  if (shiftOpen(day)) ctx.tracker.start();
  else ctx.tracker.stop();
  ctx.screen?.update?.(day);
}

async function render(ctx) {
  ctx.screen?.unmount?.();
  ctx.screen = null;
  const { api, model } = ctx;
  if (!api.loggedIn) {
    ctx.chrome = null;
    ctx.screen = loginScreen(ctx, async () => {
      await model.load();
      model.kick({ refresh: true });
      ctx.go('#/');
      render(ctx);
    });
    fill(root, ctx.screen.el);
    return;
  }
  if (api.role !== 'courier') {
    ctx.chrome = null;
    fill(root, h('div.screen.center', h('p', t('app_only_couriers', { role: api.role })),
      h('button.big', { type: 'button', on: { click: () => api.logout() } }, t('logout'))));
    return;
  }
  if (!model.loaded) await model.load();
  const route = location.hash.replace(/^#\/?/, '').split('/');
  if (ctx.updateReady && !route[0]) {
    location.reload();
    return;
  }
  const head = header(ctx);
  const bannerBox = h('div.banners', { 'data-testid': 'banners' });
  const main = h('main.screen');
  ctx.chrome = { banners: bannerBox, status: head.querySelector('.net') };
  fill(root, head, bannerBox, main);
  fill(bannerBox, banners(ctx));
  if (route[0] === 'stop' && route[1]) ctx.screen = stopScreen(ctx, Number(route[1]));
  else if (route[0] === 'end') ctx.screen = endScreen(ctx);
  else ctx.screen = homeScreen(ctx);
  fill(main, ctx.screen.el);
  main.dataset.ready = 'true';
  const day = model.view();
  if (shiftOpen(day)) ctx.tracker.start();
  window.scrollTo(0, 0);
  ctx.screen.focus?.();
}

boot();
