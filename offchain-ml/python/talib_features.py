"""The 94 features with TA-Lib's C indicators, the fastest pipeline a Python user would build:
TA-Lib (the `ta-lib` wheel) for every indicator it implements, vectorised numpy for the rest,
no pandas. For the latency comparison only (scripts/bench-ml.sh): TA-Lib's conventions differ
from the catalogue's in places (its EMAs start from an SMA, its Wilder averages from a sum, its
outputs are NaN during warm-up), so values agree after warm-up only where the conventions do;
the work per bar is the same.
"""
import numpy as np
import talib

from numpy.lib.stride_tricks import sliding_window_view


def _roll(x, n, fn):
    out = np.full(x.shape, np.nan)
    if len(x) >= n:
        out[n - 1:] = fn(sliding_window_view(x, n), axis=1)
    return out


def _div(a, b):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b == 0, 0.0, a / b)


def _shift(x, k):
    out = np.full(x.shape, np.nan)
    out[k:] = x[:-k]
    return out


def compute(o, h, l, c, v):
    """The 94 features of every bar, as a (bars, 94) array; arrays of float64."""
    f = []
    logc = np.log(c)
    logret = np.diff(logc, prepend=np.nan)
    for k in (1, 2, 3, 5, 8, 10, 15, 20, 30, 60):
        f.append(logc - _shift(logc, k))
    for w in (5, 10, 20, 60):
        f.append(talib.STDDEV(logret, w, 1.0))
    hl2 = np.log(h / l) ** 2
    for w in (10, 20):
        f.append(np.sqrt(talib.SMA(hl2, w) / (4 * np.log(2))))
    gk = 0.5 * hl2 - (2 * np.log(2) - 1) * np.log(c / o) ** 2
    f.append(np.sqrt(np.clip(talib.SMA(gk, 20), 0, None)))
    atr = talib.ATR(h, l, c, 14)
    f.append(atr / c)
    up, mid, low = talib.BBANDS(c, 20, 2.0, 2.0)
    f.append(_div(c - low, up - low))
    f.append(_div(up - low, mid) * 100)
    kc_mid = talib.SMA((h + l + c) / 3, 20)
    kc_rng = talib.SMA(h - l, 20)
    f.append(_div(c - (kc_mid - kc_rng), 2 * kc_rng))
    f.append(_div(2 * kc_rng, kc_mid) * 100)
    hi20, lo20 = talib.MAX(h, 20), talib.MIN(l, 20)
    f.append(_div(c - lo20, hi20 - lo20))
    f.append(_div(hi20 - lo20, (hi20 + lo20) / 2) * 100)
    dd = 100 * (c - talib.MAX(c, 14)) / talib.MAX(c, 14)
    f.append(np.sqrt(talib.SMA(dd * dd, 14)))

    f.append(talib.RSI(c, 14))
    f.append(talib.RSI(c, 7))
    k, d = talib.STOCH(h, l, c, 14, 1, 0, 3, 0)
    f += [k, d]
    f.append(talib.WILLR(h, l, c, 14))
    f.append(talib.ROC(c, 10))
    f.append(talib.ROC(c, 20))
    diff = np.diff(c, prepend=np.nan)
    diff[0] = 0.0
    f.append(100 * _div(talib.EMA(talib.EMA(diff, 25), 13), talib.EMA(talib.EMA(np.abs(diff), 25), 13)))
    f.append(talib.ULTOSC(h, l, c, 7, 14, 28))
    med = (h + l) / 2
    f.append((talib.SMA(med, 5) - talib.SMA(med, 34)) / c)
    f.append(c / talib.KAMA(c, 10) - 1)
    rsi = talib.RSI(c, 14)
    srsi = _div(rsi - talib.MIN(rsi, 14), talib.MAX(rsi, 14) - talib.MIN(rsi, 14))
    sk = talib.SMA(srsi, 3)
    f += [srsi, sk, talib.SMA(sk, 3)]
    ppo = talib.PPO(c, 12, 26, 1)
    ppo_sig = talib.EMA(ppo, 9)
    f += [ppo, ppo_sig, ppo - ppo_sig]

    for w in (5, 10, 20, 50):
        f.append(c / talib.SMA(c, w) - 1)
    for w in (5, 10, 20, 50):
        f.append(c / talib.EMA(c, w) - 1)
    macd, sig, hist = talib.MACD(c, 12, 26, 9)
    f += [macd / c, sig / c, hist / c]
    f += [talib.ADX(h, l, c, 14), talib.PLUS_DI(h, l, c, 14), talib.MINUS_DI(h, l, c, 14)]
    adown, aup = talib.AROON(h, l, 25)
    f += [aup, adown]
    f.append(talib.CCI(h, l, c, 20))
    f.append((_shift(c, 11) - talib.SMA(c, 20)) / c)
    tr = talib.TRANGE(h, l, c)
    str14 = talib.SUM(tr, 14)
    f.append(_div(talib.SUM(np.abs(h - _shift(l, 1)), 14), str14))
    f.append(_div(talib.SUM(np.abs(l - _shift(h, 1)), 14), str14))
    f.append(talib.TRIX(c, 15))
    e1 = talib.EMA(h - l, 9)
    f.append(talib.SUM(_div(e1, talib.EMA(e1, 9)), 25))
    kst = (talib.SMA(talib.ROC(c, 10), 10) + 2 * talib.SMA(talib.ROC(c, 15), 10)
           + 3 * talib.SMA(talib.ROC(c, 20), 10) + 4 * talib.SMA(talib.ROC(c, 30), 15))
    f += [kst, talib.SMA(kst, 9)]
    f.append(c / ((talib.MAX(h, 9) + talib.MIN(l, 9)) / 2) - 1)
    f.append(c / ((talib.MAX(h, 26) + talib.MIN(l, 26)) / 2) - 1)

    clv = _div((c - l) - (h - c), h - l)
    f.append(_div(talib.SUM(clv * v, 20), talib.SUM(v, 20)))
    f.append(talib.MFI(h, l, c, v, 14))
    f.append(_div(talib.EMA(diff * v, 13), talib.SMA(v, 20) * c))
    sum_v10 = talib.SUM(v, 10)
    obv = talib.OBV(c, v)
    f.append(_div(obv - _shift(obv, 10), sum_v10))
    tp = (h + l + c) / 3
    f.append(c / _div(talib.SUM(tp * v, 14), talib.SUM(v, 14)) - 1)
    ad = talib.AD(h, l, c, v)
    f.append(_div(ad - _shift(ad, 10), sum_v10))
    f.append(_div(v - talib.SMA(v, 20), talib.STDDEV(v, 20, 1.0)))
    f.append(_div(v, talib.SMA(v, 20)) - 1)
    pvo = talib.PPO(v, 12, 26, 1)
    pvo_sig = talib.EMA(pvo, 9)
    f += [pvo, pvo_sig, pvo - pvo_sig]

    rng = h - l
    f.append(_div(c - o, rng))
    f.append(_div(h - np.maximum(o, c), rng))
    f.append(_div(np.minimum(o, c) - l, rng))
    f.append(rng / c)
    f.append(np.log(o / _shift(c, 1)))
    f.append(clv)
    f.append(np.log(h / _shift(h, 1)))
    f.append(np.log(l / _shift(l, 1)))
    f.append(((h < _shift(h, 1)) & (l > _shift(l, 1))).astype(float))
    f.append(((h > _shift(h, 1)) & (l < _shift(l, 1))).astype(float))
    f.append((np.abs(c - o) <= 0.1 * rng).astype(float))
    streak = np.empty(len(c))
    run = 0
    for i, s in enumerate(np.sign(np.nan_to_num(diff))):
        run = (min(run + 1, 10) if run > 0 else 1) if s > 0 else (max(run - 1, -10) if run < 0 else -1) if s < 0 else 0
        streak[i] = run / 10
    f.append(streak)
    f.append(_div(rng, atr))
    f.append(c / talib.MAX(h, 20) - 1)
    f.append(c / talib.MIN(l, 20) - 1)
    out = np.stack(f, axis=1)
    assert out.shape[1] == 94, out.shape
    return out
