// The console's entry: configuration, login, the header and the views by
// location hash (#/map, #/orders, #/couriers, #/cashdesk, #/reports). The
// language is the company's unless the user picked the other one (kept in
// this browser).
import { Api, ApiError } from './api.js';
import { h, fill, toast } from './dom.js';
import { makeFormat } from './format.js';
import { setLanguage, language, t, errorText } from './i18n.js';
import { icon } from './icons.js';

const views = {
  map: { label: 'nav_map', roles: ['admin', 'dispatcher'], load: () => import('./map.js') },
  orders: { label: 'nav_orders', roles: ['admin', 'dispatcher', 'cashier'], load: () => import('./orders.js') },
  couriers: { label: 'nav_couriers', roles: ['admin', 'dispatcher', 'cashier'], load: () => import('./couriers.js') },
  cashdesk: { label: 'nav_cashdesk', roles: ['admin', 'cashier'], load: () => import('./cashdesk.js') },
  reports: { label: 'nav_reports', roles: ['admin', 'dispatcher'], load: () => import('./reports.js') },
};

const LANG_KEY = 'courier.console.language';
const root = document.getElementById('app');
let unmount = null;
let ctx = null;

async function boot() {
  let cfg;
  try {
    cfg = await (await fetch('config.json')).json();
  } catch {
    cfg = { time_zone: 'UTC', currency: 'RUB', language: 'en', tile_url: '', company: '', stale_after_s: 300 };
  }
  const api = new Api('');
  ctx = { api, cfg, fmt: null };
  applyLanguage(localStorage.getItem(LANG_KEY) || cfg.language);
  api.onLogout = () => { location.hash = ''; render(); };
  window.addEventListener('hashchange', render);
  render();
}

/** Sets the words and the formats (units, numbers) to a language. */
function applyLanguage(l) {
  setLanguage(l);
  ctx.fmt = makeFormat({ ...ctx.cfg, language: language() });
  document.title = ctx.cfg.company ? `${t('app')} · ${ctx.cfg.company}` : t('app');
}

function allowed(name) {
  return views[name]?.roles.includes(ctx.api.role);
}

function defaultView() {
  return ctx.api.role === 'cashier' ? 'cashdesk' : 'map';
}

async function render() {
  if (unmount) {
    try { unmount(); } catch (e) { console.error(e); }
    unmount = null;
  }
  if (!ctx.api.loggedIn) {
    showLogin();
    return;
  }
  let name = (location.hash.replace(/^#\/?/, '').split(/[/?]/)[0]) || '';
  if (!allowed(name)) {
    name = defaultView();
    if (!allowed(name)) name = Object.keys(views).find(allowed);
    if (!name) {
      fill(root, h('p.boot', t('no_screens', { role: t('role_' + ctx.api.role) })), h('button', { on: { click: () => ctx.api.logout() } }, t('logout')));
      return;
    }
    history.replaceState(null, '', '#/' + name);
  }
  const main = h('main#view', { class: 'view-' + name });
  fill(root, header(name), main);
  try {
    const mod = await views[name].load();
    unmount = await mod.mount(main, ctx);
  } catch (err) {
    console.error(err);
    fill(main, h('p.error', { role: 'alert' }, errorText(err)));
  }
}

function header(active) {
  const nav = Object.entries(views).filter(([n]) => allowed(n)).map(([n, v]) =>
    h('a', { href: '#/' + n, class: n === active ? 'active' : '', 'aria-current': n === active ? 'page' : null, 'data-testid': 'nav-' + n }, t(v.label)));
  const other = language() === 'ru' ? 'en' : 'ru';
  return h('header.top',
    h('span.brand', ctx.cfg.company || t('app')),
    h('nav', { 'aria-label': t('menu') }, nav),
    h('span.who', { 'data-testid': 'who' }, `${ctx.api.session.login} · ${t('role_' + ctx.api.role)}`),
    h('button.link.lang', {
      type: 'button', 'data-testid': 'language', title: t('language'), lang: other,
      on: { click: () => { localStorage.setItem(LANG_KEY, other); applyLanguage(other); render(); } },
    }, other.toUpperCase()),
    h('button.link.logout', { type: 'button', 'data-testid': 'logout', title: t('logout'), on: { click: () => ctx.api.logout() } },
      icon('logout', 18), h('span.label', t('logout'))));
}

function showLogin() {
  const err = h('p.error', { role: 'alert' });
  const login = h('input#login', { name: 'login', autocomplete: 'username', required: true, autofocus: true });
  const password = h('input#password', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const form = h('form.login', {
    on: {
      submit: async (e) => {
        e.preventDefault();
        err.textContent = '';
        try {
          await ctx.api.login(login.value.trim(), password.value);
          location.hash = '';
          render();
        } catch (ex) {
          err.textContent = `${t('login_failed')}: ${errorText(ex)}`;
          password.select();
        }
      },
    },
  },
  h('h1', ctx.cfg.company || t('app')),
  h('label', { for: 'login' }, t('login_name')), login,
  h('label', { for: 'password' }, t('password')), password,
  h('button.primary', { type: 'submit', 'data-testid': 'login-submit' }, t('login')),
  err);
  fill(root, form);
  login.focus();
}

window.addEventListener('unhandledrejection', (e) => {
  const err = e.reason;
  if (err instanceof ApiError) {
    e.preventDefault();
    toast(errorText(err), 'error');
  }
});

boot();
