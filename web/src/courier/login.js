// Log in: the courier's login and password, large fields for a phone.
import { h } from '../dom.js';
import { t } from '../i18n.js';

export function loginScreen(ctx, done) {
  const err = h('p.error', { role: 'alert', 'data-testid': 'login-error' });
  const login = h('input#login', { name: 'login', autocomplete: 'username', autocapitalize: 'none', spellcheck: false, required: true });
  const password = h('input#password', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const submit = h('button.big.primary', { type: 'submit', 'data-testid': 'login-submit' }, t('login'));
  const form = h('form.login-form', {
    on: {
      submit: async (e) => {
        e.preventDefault();
        err.textContent = '';
        submit.disabled = true;
        try {
          await ctx.api.login(login.value.trim(), password.value);
          await done();
        } catch (ex) {
          err.textContent = ex instanceof TypeError ? t('login_offline') : `${t('login_failed')}: ${ex.message}`;
          password.select();
        } finally {
          submit.disabled = false;
        }
      },
    },
  },
  h('h1', ctx.cfg.company || t('app_name')),
  h('p.muted', t('login_hint')),
  h('label', { for: 'login' }, t('login_name')), login,
  h('label', { for: 'password' }, t('password')), password,
  submit, err);
  const el = h('div.screen.login-screen', form);
  return { el, focus: () => login.focus() };
}
