// Formatting in the company's time zone, currency and language. Pure: no DOM,
// so node --test covers it (test/format.test.mjs). Units come from the one
// dictionary (i18n.js) in the configuration's language.
import { tIn } from './i18n.js';

/** The BCP 47 locale for a company language. */
export function localeOf(language) {
  return language === 'en' ? 'en-GB' : 'ru-RU';
}

/** How many minor units a currency has (2 for RUB and EUR, 0 for JPY). */
export function minorDigits(currency) {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits;
  } catch {
    return 2;
  }
}

/**
 * Parses what a cashier typed ("1 234,50", "1234.5", "1234") into minor units
 * of the currency. Returns null for anything that is not an amount.
 */
export function parseMoney(text, currency) {
  const digits = minorDigits(currency);
  let s = String(text ?? '').trim().replace(/[\s\u00a0\u202f']/g, '');
  s = s.replace(/[^\d.,-]/g, '');
  if (s === '' || s === '-') return null;
  const neg = s.startsWith('-');
  if (neg) s = s.slice(1);
  if (s.includes('-')) return null;
  // The last separator followed by at most `digits` digits is the decimal one;
  // any other separators group thousands.
  let whole = s;
  let frac = '';
  const last = Math.max(s.lastIndexOf('.'), s.lastIndexOf(','));
  if (last >= 0) {
    const tail = s.slice(last + 1);
    if (digits > 0 && tail.length <= digits && !(tail.length === 3 && s.indexOf(s[last]) !== last)) {
      whole = s.slice(0, last);
      frac = tail;
    }
  }
  whole = whole.replace(/[.,]/g, '');
  if (!/^\d*$/.test(whole) || !/^\d*$/.test(frac) || (whole === '' && frac === '')) return null;
  const minor = Number(whole || '0') * 10 ** digits + Number((frac + '0'.repeat(digits)).slice(0, digits) || '0');
  if (!Number.isSafeInteger(minor)) return null;
  return neg ? -minor : minor;
}

/** Builds the formatters of a console configuration ({time_zone, currency, language}). */
export function makeFormat(cfg) {
  const locale = localeOf(cfg.language);
  const timeZone = cfg.time_zone || 'UTC';
  const currency = cfg.currency || 'RUB';
  const digits = minorDigits(currency);
  const moneyFmt = new Intl.NumberFormat(locale, { style: 'currency', currency, minimumFractionDigits: digits, maximumFractionDigits: digits });
  const timeFmt = new Intl.DateTimeFormat(locale, { timeZone, hour: '2-digit', minute: '2-digit' });
  const dateFmt = new Intl.DateTimeFormat(locale, { timeZone, day: '2-digit', month: '2-digit', year: 'numeric' });
  const dateTimeFmt = new Intl.DateTimeFormat(locale, { timeZone, day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
  const isoFmt = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
  const numFmt = new Intl.NumberFormat(locale, { maximumFractionDigits: 1 });
  const clockFmt = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  const fullFmt = new Intl.DateTimeFormat('en-GB', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  const toDate = (v) => (v instanceof Date ? v : new Date(v));
  const valid = (v) => v != null && v !== '' && !Number.isNaN(toDate(v).getTime());
  return {
    locale, timeZone, currency, digits,
    /** Minor units -> "1 234,50 ₽" in the company currency (or the one given). */
    money(minor, cur) {
      if (minor == null) return '';
      const c = cur || currency;
      // A negative amount gets a true minus sign (U+2212), not a hyphen.
      if (c === currency) return moneyFmt.format(minor / 10 ** digits).replace('-', '\u2212');
      const d = minorDigits(c);
      return new Intl.NumberFormat(locale, { style: 'currency', currency: c, minimumFractionDigits: d, maximumFractionDigits: d }).format(minor / 10 ** d).replace('-', '\u2212');
    },
    /** Minor units -> "+1 234,50 ₽" / "−1 234,50 ₽" / "0,00 ₽". */
    signedMoney(minor) {
      const s = moneyFmt.format(Math.abs(minor) / 10 ** digits);
      return minor > 0 ? '+' + s : minor < 0 ? '−' + s : s;
    },
    /** Minor units -> the plain number a cashier would type ("1234.50"). */
    amountInput(minor) {
      return (minor / 10 ** digits).toFixed(digits);
    },
    parseMoney: (text) => parseMoney(text, currency),
    time: (v) => (valid(v) ? timeFmt.format(toDate(v)) : ''),
    date: (v) => (valid(v) ? dateFmt.format(toDate(v)) : ''),
    dateTime: (v) => (valid(v) ? dateTimeFmt.format(toDate(v)) : ''),
    /** A window "10:00–13:00". */
    window(tw) {
      if (!tw) return '';
      return `${timeFmt.format(new Date(tw.from))}–${timeFmt.format(new Date(tw.to))}`;
    },
    /** "HH:MM" (24 h) of an instant in the company time zone, for a time input. */
    clock(v) {
      if (!valid(v)) return '';
      const p = Object.fromEntries(clockFmt.formatToParts(toDate(v)).map((x) => [x.type, x.value]));
      return `${p.hour === '24' ? '00' : p.hour}:${p.minute}`;
    },
    /** The instant (ISO 8601 in UTC) of a local date "YYYY-MM-DD" and time "HH:MM" in the company time zone. */
    zoned(date, hhmm) {
      const [y, mo, d] = date.split('-').map(Number);
      const [hh, mm] = hhmm.split(':').map(Number);
      const want = Date.UTC(y, mo - 1, d, hh, mm);
      // The zone's offset at that moment: guess, then correct once (DST edges).
      let guess = want;
      for (let i = 0; i < 2; i++) {
        const p = Object.fromEntries(fullFmt.formatToParts(new Date(guess)).map((x) => [x.type, x.value]));
        const seen = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour) % 24, Number(p.minute));
        guess += want - seen;
      }
      return new Date(guess).toISOString().replace('.000Z', 'Z');
    },
    /** The calendar date (YYYY-MM-DD) of an instant in the company time zone; default now. */
    isoDate: (v) => isoFmt.format(v == null ? new Date() : toDate(v)),
    number: (n) => numFmt.format(n),
    /** Metres -> "12,3 км". */
    km: (m) => numFmt.format(m / 1000) + '\u00a0' + tIn(cfg.language, 'unit_km'),
    /** Kilograms -> "250 кг". */
    kg: (kg) => numFmt.format(kg) + '\u00a0' + tIn(cfg.language, 'unit_kg'),
    /** Litres -> "600 л". */
    litres: (l) => numFmt.format(l) + '\u00a0' + tIn(cfg.language, 'unit_l'),
    /** Seconds -> "3 ч 05 мин" / "45 мин". */
    duration(s) {
      let h = Math.floor(s / 3600);
      let m = Math.round((s % 3600) / 60);
      if (m === 60) { h += 1; m = 0; }
      return h > 0 ? tIn(cfg.language, 'dur_hm', { h, m: String(m).padStart(2, '0') }) : tIn(cfg.language, 'dur_m', { m });
    },
    /** Minutes ago in words: "5 мин", "1 ч 10 мин". */
    ago(from, now = Date.now()) {
      const s = Math.max(0, Math.round((now - toDate(from).getTime()) / 1000));
      return this.duration(s < 60 ? 60 : s);
    },
    /** A signed amount in minor units with a true minus: "−500,00 ₽" (the same as signedMoney without the plus). */
    minus(minor) {
      const s = moneyFmt.format(Math.abs(minor) / 10 ** digits);
      return minor < 0 ? '\u2212' + s : s;
    },
  };
}
