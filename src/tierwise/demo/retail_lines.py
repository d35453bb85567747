"""Seeded line-level retail exports in the shape of the UCI "Online Retail" data set.

One row per invoice line, with the data set's columns and habits:
``InvoiceNo, StockCode, Description, Quantity, InvoiceDate, UnitPrice, CustomerID, Country``;

* invoices of several lines (distinct products each), numbered upwards in time from 536365;
* a catalogue of products (codes such as ``85123A``, upper-case descriptions, fixed unit prices)
  with skewed popularity (Zipf), and customers who keep coming back to a few favourites;
* US dates without leading zeros (``12/1/2010 8:26``), ``CustomerID`` written as ``17850.0`` and
  missing on about a fifth of the lines (guest invoices);
* cancellations: invoices numbered ``C`` + a new number, later than an invoice of the same customer
  whose lines they mirror with negative quantities; a few customers whose only rows in the export
  are cancellations (their purchases predate it);
* a few true duplicate lines (a line exported twice in its invoice).

The manifest names what the file holds (line numbers, invoices, the links of cancellations to the
invoices they cancel) and the figures a correct intake must reproduce, computed here from the
generated values, so tests compare with what was planted.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HEADERS = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice",
           "CustomerID", "Country"]
_COLOURS = ("WHITE", "RED", "PINK", "BLUE", "GREEN", "IVORY", "CREAM", "SILVER", "VINTAGE",
            "RETROSPOT", "POLKADOT", "PAISLEY", "REGENCY", "JUMBO", "SET OF 3", "SMALL")
_THINGS = ("HANGING HEART T-LIGHT HOLDER", "METAL LANTERN", "CAKE CASES", "LUNCH BAG",
           "TEA CUP AND SAUCER", "HOT WATER BOTTLE", "PICNIC BASKET", "PARTY BUNTING",
           "ALARM CLOCK BAKELIKE", "BIRD ORNAMENT", "DOORMAT", "PHOTO FRAME", "GIFT WRAP",
           "SHOPPER BAG", "CHARLOTTE BAG", "NAPKINS", "CANDLE", "MUG", "JAM MAKING SET",
           "WATER BOTTLE", "HEART DECORATION", "STORAGE JAR", "PAPER CHAIN KIT", "CUSHION COVER")
_COUNTRIES = ("United Kingdom", "Germany", "France", "EIRE", "Spain", "Netherlands", "Belgium",
              "Switzerland", "Portugal", "Australia")
_COUNTRY_WEIGHTS = np.array([0.88, 0.025, 0.022, 0.02, 0.01, 0.01, 0.008, 0.008, 0.009, 0.008])
_QUANTITIES = np.array([1, 2, 3, 4, 6, 8, 10, 12, 24, 48])
_QTY_WEIGHTS = np.array([0.22, 0.14, 0.08, 0.1, 0.14, 0.04, 0.05, 0.14, 0.06, 0.03])
FIRST_INVOICE = 536365
FIRST_CUSTOMER = 12346


def generate_retail_lines(out_dir: str | Path, *, customers: int = 400, days: int = 300,
                          start: date = date(2010, 12, 1), products: int = 300,
                          guest_share: float = 0.16, cancel_share: float = 0.03,
                          duplicate_share: float = 0.004, cancel_only: int = 3,
                          seed: int = 0, name: str = "online_retail.csv") -> dict[str, Any]:
    """Write ``<out_dir>/<name>`` and ``manifest.json``; return the manifest.

    Parameters
    ----------
    customers
        Registered customers with purchases (plus ``cancel_only`` with only cancellations).
    days
        Length of the export window from ``start``.
    products
        Catalogue size.
    guest_share
        Share of invoices without a customer id (their lines are about a fifth to a quarter of all).
    cancel_share
        Share of customers' invoices later cancelled in part or in full.
    duplicate_share
        Share of lines exported twice.
    seed
        The same seed gives a byte-identical file.
    """
    rng = np.random.default_rng(seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    catalogue = _catalogue(rng, products)
    invoices = _invoices(rng, customers, days, start, guest_share)
    lines = _lines(rng, invoices, catalogue)
    cancels, links = _cancellations(rng, invoices, lines, catalogue, cancel_share, cancel_only,
                                    customers, start, days)
    table = pd.concat([lines, cancels], ignore_index=True)
    table = table.sort_values(["at", "invoice_no", "pos"], kind="stable").reset_index(drop=True)
    table["code"] = catalogue["code"].to_numpy()[table["product"]]
    table["name"] = catalogue["name"].to_numpy()[table["product"]]
    table = _duplicate(rng, table, duplicate_share)
    table["line"] = np.arange(2, len(table) + 2)
    _write(table, out / name)
    manifest = _manifest(table, links)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return manifest


def _catalogue(rng: np.random.Generator, n: int) -> pd.DataFrame:
    codes = rng.choice(np.arange(10000, 90000), size=n, replace=False).astype(str)
    suffix = np.where(rng.random(n) < 0.25, rng.choice(list("ABCDELMNPS"), size=n), "")
    names = [f"{rng.choice(_COLOURS)} {rng.choice(_THINGS)}" for _ in range(n)]
    names = [f"{nm} {i}" if names.index(nm) != i else nm for i, nm in enumerate(names)]
    price = np.round(np.exp(rng.normal(0.9, 0.8, n)), 2).clip(0.19, 49.95)
    weight = 1.0 / np.arange(1, n + 1) ** 1.1
    return pd.DataFrame({"code": np.char.add(codes, suffix.astype(str)), "name": names,
                         "price": price, "weight": weight / weight.sum()})


def _invoices(rng: np.random.Generator, n_customers: int, days: int, start: date,
              guest_share: float) -> pd.DataFrame:
    per = rng.negative_binomial(1.2, 0.25, n_customers) + 1
    cust = np.repeat(np.arange(n_customers), per)
    n_guest = int(round(len(cust) * guest_share / (1 - guest_share)))
    cust = np.concatenate([cust, np.full(n_guest, -1)])
    minute = rng.integers(0, days * 24 * 60, len(cust))
    hour = 8 + (minute % (24 * 60)) * 12 // (24 * 60)  # shop hours 8:00-19:59
    at = [datetime.combine(start, datetime.min.time()) + timedelta(days=int(m // 1440),
                                                                   hours=int(h), minutes=int(m % 60))
          for m, h in zip(minute, hour)]
    frame = pd.DataFrame({"customer": cust, "at": at}).sort_values("at", kind="stable")
    frame = frame.reset_index(drop=True)
    frame["invoice_no"] = (FIRST_INVOICE + np.arange(len(frame))).astype(str)
    country = rng.choice(len(_COUNTRIES), n_customers, p=_COUNTRY_WEIGHTS)
    frame["country"] = [_COUNTRIES[country[c]] if c >= 0 else _COUNTRIES[0]
                        for c in frame["customer"]]
    return frame


def _lines(rng: np.random.Generator, invoices: pd.DataFrame, cat: pd.DataFrame) -> pd.DataFrame:
    n_prod = len(cat)
    favourites = {c: rng.choice(n_prod, 4, replace=False, p=cat["weight"])
                  for c in invoices["customer"].unique() if c >= 0}
    rows = []
    for inv in invoices.itertuples(index=False):
        k = int(min(1 + rng.poisson(7 if inv.customer >= 0 else 12), n_prod // 2))
        picked = rng.choice(n_prod, k, replace=False, p=cat["weight"])
        if inv.customer >= 0:  # most baskets hold some of the customer's favourites
            fav = favourites[inv.customer][rng.random(4) < 0.6]
            picked = np.unique(np.concatenate([fav, picked]))[:max(k, len(fav))]
        qty = rng.choice(_QUANTITIES, len(picked), p=_QTY_WEIGHTS / _QTY_WEIGHTS.sum())
        for pos, (p, q) in enumerate(zip(picked, qty)):
            rows.append((inv.invoice_no, inv.at, pos, int(p), int(q), inv.customer, inv.country))
    frame = pd.DataFrame(rows, columns=["invoice_no", "at", "pos", "product", "quantity",
                                        "customer", "country"])
    frame["price"] = cat["price"].to_numpy()[frame["product"]]
    return frame


def _cancellations(rng, invoices, lines, cat, share, cancel_only, n_customers, start, days):
    """Cancellation invoices mirroring earlier lines, and customers with only cancellations."""
    own = invoices[invoices["customer"] >= 0]
    chosen = own.sample(frac=share, random_state=int(rng.integers(1 << 31)))
    rows, links = [], {}
    end = datetime.combine(start + timedelta(days=days), datetime.min.time())
    for k, inv in enumerate(chosen.itertuples(index=False)):
        mirrored = lines[lines["invoice_no"] == inv.invoice_no]
        take = mirrored.sample(n=int(rng.integers(1, min(3, len(mirrored)) + 1)),
                               random_state=int(rng.integers(1 << 31)))
        at = min(inv.at + timedelta(hours=int(rng.integers(1, 24 * 20))), end)
        number = f"C{FIRST_INVOICE + len(invoices) + k}"
        links[number] = inv.invoice_no
        for pos, line in enumerate(take.itertuples(index=False)):
            rows.append((number, at, pos, line.product, -int(line.quantity), inv.customer,
                         inv.country, line.price))
    for j in range(cancel_only):  # purchases before the export window: nothing to link to
        at = datetime.combine(start, datetime.min.time()) + timedelta(days=int(rng.integers(days)),
                                                                      hours=10)
        number = f"C{FIRST_INVOICE + len(invoices) + len(chosen) + j}"
        product = int(rng.integers(len(cat)))
        rows.append((number, at, 0, product, -int(rng.choice([1, 2, 6, 12])), n_customers + j,
                     _COUNTRIES[0], float(cat["price"].iloc[product])))
    frame = pd.DataFrame(rows, columns=["invoice_no", "at", "pos", "product", "quantity",
                                        "customer", "country", "price"])
    return frame, links


def _duplicate(rng: np.random.Generator, table: pd.DataFrame, share: float) -> pd.DataFrame:
    table = table.assign(duplicate=False)
    n = int(round(len(table) * share))
    if not n:
        return table
    pick = np.sort(rng.choice(len(table), n, replace=False))
    copies = table.iloc[pick].assign(duplicate=True)
    merged = pd.concat([table, copies]).sort_index(kind="stable")  # right after the original
    return merged.reset_index(drop=True)


def _write(table: pd.DataFrame, path: Path) -> None:
    at = table["at"]
    stamp = [f"{t.month}/{t.day}/{t.year} {t.hour}:{t.minute:02d}" for t in at]
    cust = np.where(table["customer"] >= 0,
                    (FIRST_CUSTOMER + table["customer"]).astype(str) + ".0", "")
    frame = pd.DataFrame({
        "InvoiceNo": table["invoice_no"], "StockCode": table["code"],
        "Description": table["name"], "Quantity": table["quantity"], "InvoiceDate": stamp,
        "UnitPrice": table["price"].map("{:.2f}".format), "CustomerID": cust,
        "Country": table["country"]})
    frame.to_csv(path, index=False, lineterminator="\n")


def _manifest(table: pd.DataFrame, links: dict[str, str]) -> dict[str, Any]:
    known = table["customer"] >= 0
    ok = known & ~table["duplicate"]
    cents = np.round(table["quantity"] * table["price"], 10)
    purchase = ok & (table["quantity"] > 0)
    cancel = ok & table["invoice_no"].str.startswith("C")
    per_customer = cents[ok].groupby((FIRST_CUSTOMER + table["customer"][ok]).astype(str)).sum()
    only_cancel = sorted(set(table.loc[cancel, "customer"]) - set(table.loc[purchase, "customer"]))
    return {
        "lines": int(len(table)),
        "missing_customer_lines": table.loc[~known, "line"].astype(int).tolist(),
        "duplicate_lines": table.loc[known & table["duplicate"], "line"].astype(int).tolist(),
        "duplicate_guest_lines": table.loc[~known & table["duplicate"], "line"].astype(int).tolist(),
        "invoices": int(table.loc[ok, "invoice_no"].nunique()),
        "purchase_invoices": int(table.loc[purchase, "invoice_no"].nunique()),
        "cancellation_invoices": int(table.loc[cancel, "invoice_no"].nunique()),
        "guest_invoices": int(table.loc[~known, "invoice_no"].nunique()),
        "revenue": round(float(cents[ok].sum()), 6),
        "gross_revenue": round(float(cents[purchase].sum()), 6),
        "customer_revenue": {k: round(float(v), 6) for k, v in per_customer.items()},
        "cancel_only_customers": [str(FIRST_CUSTOMER + c) for c in only_cancel],
        "cancellation_links": dict(sorted(links.items())),
    }


__all__ = ["HEADERS", "generate_retail_lines"]
