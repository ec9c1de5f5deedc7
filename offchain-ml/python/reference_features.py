"""Independent computation of the 94 features, for the feature pipeline's verification test.

Indicators come from the `ta` package (0.11.0) wherever it has them, the rest from pandas and
numpy written from the formulas in the catalogue. Usage: reference_features.py BARS.csv OUT.csv
Rows and columns match `noderr_ml::features::compute`; values ta leaves undefined are empty.
"""
import sys

import numpy as np
import pandas as pd
import ta


def safe_div(a, b):
    return (a / b.replace(0.0, np.nan)).fillna(0.0)


def compute(bars: pd.DataFrame) -> pd.DataFrame:
    """The 94 features of every bar of `bars` (columns open, high, low, close, volume)."""
    o, h, l, c, v = (bars[k].astype(float).reset_index(drop=True) for k in ("open", "high", "low", "close", "volume"))
    f = {}


    logret = np.log(c / c.shift(1))
    for k in (1, 2, 3, 5, 8, 10, 15, 20, 30, 60):
        f[f"ret_{k}"] = np.log(c / c.shift(k))
    for w in (5, 10, 20, 60):
        f[f"vol_{w}"] = logret.rolling(w).std(ddof=0)
    hl2 = np.log(h / l) ** 2
    for w in (10, 20):
        f[f"parkinson_{w}"] = np.sqrt(hl2.rolling(w).mean() / (4 * np.log(2)))
    gk = 0.5 * hl2 - (2 * np.log(2) - 1) * np.log(c / o) ** 2
    f["garman_klass_20"] = np.sqrt(gk.rolling(20).mean().clip(lower=0))
    f["atr_14"] = ta.volatility.AverageTrueRange(h, l, c, 14).average_true_range() / c
    bb = ta.volatility.BollingerBands(c, 20, 2)
    f["bb_pband_20"] = bb.bollinger_pband()
    f["bb_wband_20"] = bb.bollinger_wband()
    kc = ta.volatility.KeltnerChannel(h, l, c, 20, original_version=True)
    f["kc_pband_20"] = kc.keltner_channel_pband()
    f["kc_wband_20"] = kc.keltner_channel_wband()
    dc = ta.volatility.DonchianChannel(h, l, c, 20)
    f["dc_pband_20"] = dc.donchian_channel_pband()
    f["dc_wband_20"] = dc.donchian_channel_wband()
    f["ulcer_14"] = ta.volatility.UlcerIndex(c, 14).ulcer_index()

    f["rsi_14"] = ta.momentum.RSIIndicator(c, 14).rsi()
    f["rsi_7"] = ta.momentum.RSIIndicator(c, 7).rsi()
    st = ta.momentum.StochasticOscillator(h, l, c, 14, 3)
    f["stoch_k_14"] = st.stoch()
    f["stoch_d_3"] = st.stoch_signal()
    f["williams_r_14"] = ta.momentum.WilliamsRIndicator(h, l, c, 14).williams_r()
    f["roc_10"] = ta.momentum.ROCIndicator(c, 10).roc()
    f["roc_20"] = ta.momentum.ROCIndicator(c, 20).roc()
    f["tsi_25_13"] = ta.momentum.TSIIndicator(c, 25, 13).tsi()
    f["uo_7_14_28"] = ta.momentum.UltimateOscillator(h, l, c, 7, 14, 28).ultimate_oscillator()
    f["ao_5_34"] = ta.momentum.AwesomeOscillatorIndicator(h, l, 5, 34).awesome_oscillator() / c
    f["kama_10_2_30"] = c / ta.momentum.KAMAIndicator(c, 10, 2, 30).kama() - 1
    # ta's StochRSI, with the pipeline's rule that an RSI range under 0.001 points is flat (0).
    rsi = ta.momentum.RSIIndicator(c, 14).rsi()
    lo, hi = rsi.rolling(14).min(), rsi.rolling(14).max()
    srsi = ((rsi - lo) / (hi - lo)).where(hi - lo >= 1e-3, 0.0).where(hi.notna())
    f["stochrsi_14"] = srsi
    f["stochrsi_k"] = srsi.rolling(3).mean()
    f["stochrsi_d"] = f["stochrsi_k"].rolling(3).mean()
    ppo = ta.momentum.PercentagePriceOscillator(c, 26, 12, 9)
    f["ppo_12_26"] = ppo.ppo()
    f["ppo_signal_9"] = ppo.ppo_signal()
    f["ppo_hist"] = ppo.ppo_hist()

    for w in (5, 10, 20, 50):
        f[f"sma_rel_{w}"] = c / ta.trend.SMAIndicator(c, w).sma_indicator() - 1
    for w in (5, 10, 20, 50):
        f[f"ema_rel_{w}"] = c / ta.trend.EMAIndicator(c, w).ema_indicator() - 1
    macd = ta.trend.MACD(c, 26, 12, 9)
    f["macd_12_26"] = macd.macd() / c
    f["macd_signal_9"] = macd.macd_signal() / c
    f["macd_diff"] = macd.macd_diff() / c
    adx = ta.trend.ADXIndicator(h, l, c, 14)
    f["adx_14"] = adx.adx()
    f["adx_pos_14"] = adx.adx_pos()
    f["adx_neg_14"] = adx.adx_neg()
    aroon = ta.trend.AroonIndicator(h, l, 25)
    f["aroon_up_25"] = aroon.aroon_up()
    f["aroon_down_25"] = aroon.aroon_down()
    f["cci_20"] = ta.trend.CCIIndicator(h, l, c, 20, 0.015).cci()
    f["dpo_20"] = ta.trend.DPOIndicator(c, 20).dpo() / c
    vi = ta.trend.VortexIndicator(h, l, c, 14)
    f["vortex_pos_14"] = vi.vortex_indicator_pos()
    f["vortex_neg_14"] = vi.vortex_indicator_neg()
    f["trix_15"] = ta.trend.TRIXIndicator(c, 15).trix()
    f["mass_index_9_25"] = ta.trend.MassIndex(h, l, 9, 25).mass_index()
    kst = ta.trend.KSTIndicator(c)
    f["kst"] = kst.kst()
    f["kst_signal"] = kst.kst_sig()
    ichi = ta.trend.IchimokuIndicator(h, l, 9, 26, 52)
    f["ichimoku_conv_9"] = c / ichi.ichimoku_conversion_line() - 1
    f["ichimoku_base_26"] = c / ichi.ichimoku_base_line() - 1

    f["cmf_20"] = ta.volume.ChaikinMoneyFlowIndicator(h, l, c, v, 20).chaikin_money_flow()
    f["mfi_14"] = ta.volume.MFIIndicator(h, l, c, v, 14).money_flow_index()
    f["force_index_13"] = ta.volume.ForceIndexIndicator(c, v, 13).force_index() / (
        v.rolling(20).mean() * c
    )
    sum_v10 = v.rolling(10).sum()
    obv = ta.volume.OnBalanceVolumeIndicator(c, v).on_balance_volume()
    f["obv_slope_10"] = (obv - obv.shift(10)) / sum_v10
    f["vwap_14"] = c / ta.volume.VolumeWeightedAveragePrice(h, l, c, v, 14).volume_weighted_average_price() - 1
    adi = ta.volume.AccDistIndexIndicator(h, l, c, v).acc_dist_index()
    f["adi_slope_10"] = (adi - adi.shift(10)) / sum_v10
    f["volume_z_20"] = (v - v.rolling(20).mean()) / v.rolling(20).std(ddof=0)
    f["volume_ratio_20"] = v / v.rolling(20).mean() - 1
    pvo = ta.momentum.PercentageVolumeOscillator(v, 26, 12, 9)
    f["pvo_12_26"] = pvo.pvo()
    f["pvo_signal_9"] = pvo.pvo_signal()
    f["pvo_hist"] = pvo.pvo_hist()

    rng = h - l
    f["body"] = safe_div(c - o, rng)
    f["upper_shadow"] = safe_div(h - np.maximum(o, c), rng)
    f["lower_shadow"] = safe_div(np.minimum(o, c) - l, rng)
    f["range"] = rng / c
    f["gap"] = np.log(o / c.shift(1))
    f["clv"] = safe_div((c - l) - (h - c), rng)
    f["high_change"] = np.log(h / h.shift(1))
    f["low_change"] = np.log(l / l.shift(1))
    f["inside_bar"] = ((h < h.shift(1)) & (l > l.shift(1))).astype(float)
    f["outside_bar"] = ((h > h.shift(1)) & (l < l.shift(1))).astype(float)
    f["doji"] = ((c - o).abs() <= 0.1 * rng).astype(float)
    direction = np.sign(c.diff().fillna(0.0)).to_numpy()
    streak, run = [], 0
    for d in direction:
        if d > 0:
            run = min(run + 1, 10) if run > 0 else 1
        elif d < 0:
            run = max(run - 1, -10) if run < 0 else -1
        else:
            run = 0
        streak.append(run / 10)
    f["streak"] = pd.Series(streak)
    atr = ta.volatility.AverageTrueRange(h, l, c, 14).average_true_range()
    f["range_atr"] = rng / atr
    f["dist_high_20"] = c / h.rolling(20).max() - 1
    f["dist_low_20"] = c / l.rolling(20).min() - 1

    out = pd.DataFrame(f).replace([np.inf, -np.inf], np.nan)
    assert out.shape[1] == 94, out.shape
    return out


if __name__ == "__main__":
    compute(pd.read_csv(sys.argv[1])).to_csv(sys.argv[2], index=False, float_format="%.17g")
