"""Synthetic SIRENE stock files in INSEE's exact layout, at any size (for bench/sirene.py).

    .venv/bin/python bench/sirene_generate.py --units 1000000 --out /tmp/sirene-1M [--csv]
    .venv/bin/python bench/sirene_generate.py --units 1000000 --out /tmp/sirene-1M --from-samples \
        [--layout 33|34|35] [--kept-share 0.35]

``--from-samples`` (what bench/sirene.py runs): rows copied from the real samples of
tests/fixtures/sirene/, renumbered, in the chosen layout and share of kept units
(:func:`generate_from_samples`). Without it, random rows:

Writes ``StockUniteLegale_utf8.zip`` (35 columns, the 2026 layout) and
``StockEtablissement_utf8.zip`` (53 columns), each holding one CSV, headers copied from the real
samples of tests/fixtures/sirene/. EVERYTHING IS FICTIONAL: SIRENs are consecutive numbers with a
Luhn key starting at 900000000 (not compared with the register), names are random words.

Proportions chosen to look like the national stock (orders of magnitude, not statistics):
about 4 % of the units are ESS ones (flag ``O`` or a legal category of an ESS family: mostly
associations, then cooperatives, mutuals, foundations, SCIC SAS); about half are individual
entrepreneurs (1000); 45 % are ceased; 3 % are partially diffusible (P); 1.4 establishments per
unit on average, 60 % of them closed, with Lambert-93 coordinates for 70 %; 2 % of the commune codes
are former communes (déléguées) and 0.3 % unknown ones; 0.5 % of the names contain a comma (quoted
field) and a few a double quote.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import random
import sys
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "sirene"

ESS_CATEGORIES = ["9220"] * 70 + ["9300"] * 2 + ["8210"] * 3 + ["5458", "5560", "5460", "6317", "6316", "5558"] * 3 + ["9230"] * 2
OTHER_CATEGORIES = ["1000"] * 52 + ["5499"] * 12 + ["5710"] * 10 + ["5720"] * 6 + ["6540"] * 8 + ["5599"] * 2 + \
    ["5202", "5306", "6599", "7210", "7220", "7346", "4110", "8110", "9900", "2110"]
NAF = ["88.99B", "94.99Z", "85.59A", "56.10A", "47.11B", "43.21A", "62.01Z", "68.20A", "01.11Z", "86.21Z",
       "93.12Z", "90.01Z", "46.90Z", "41.20A", "49.41A", "55.10Z", "70.22Z", "96.02A", "81.21Z", "10.71C"]
BANDS = ["NN", "00", "01", "02", "03", "11", "12", "21", "22", "31", "32", "41", "42", "51", "52", "53", ""]
WORDS = ["ATELIER", "SOLIDAIRE", "COOPERATIVE", "ASSOCIATION", "VALLEE", "BOIS", "PIERRE", "JARDINS", "ENERGIE",
         "MAISON", "SERVICES", "TERRE", "LOCAL", "CIRCUIT", "CULTURE", "SPORT", "HABITAT", "MOBILITE", "REEMPLOI",
         "INSERTION", "PAYS", "SOURCE", "CHEMIN", "PONT", "MOULIN", "FORGE", "RUCHE", "GRANGE", "SAVOIR", "LIEN"]


def luhn_key(prefix: str) -> str:
    total = 0
    for position, char in enumerate(reversed(prefix + "0")):
        digit = ord(char) - 48
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return str((10 - total % 10) % 10)


def communes() -> tuple[list[str], list[str]]:
    with gzip.open(ROOT / "data" / "reference" / "cog-2026.json.gz", "rt", encoding="utf-8") as stream:
        snapshot = json.load(stream)
    current = [c["code"] for c in snapshot["communes"] if c["type"] == "commune-actuelle" and not c["code"].startswith("97")]
    former = [c["code"] for c in snapshot["communes"] if c["type"] == "commune-deleguee"]
    return current, former


def header(name: str) -> list[str]:
    with open(FIXTURES / name, encoding="utf-8") as stream:
        return next(csv.reader(stream))


def name(rng: random.Random) -> str:
    words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4)))
    roll = rng.random()
    if roll < 0.005:
        return f'"{words}, {rng.choice(WORDS)}"'
    if roll < 0.0055:
        return f'"{words} ""{rng.choice(WORDS)}"""'
    return words


def generate(units: int, out: Path, as_zip: bool = True, seed: int = 2026) -> dict:
    rng = random.Random(seed)
    current, former = communes()
    unit_header = header("sirene_sample_unitelegale_2026schema.csv")
    est_header = header("sirene_sample_etablissement.csv")
    assert len(unit_header) == 35 and len(est_header) == 53
    ui = {c: i for i, c in enumerate(unit_header)}
    ei = {c: i for i, c in enumerate(est_header)}
    out.mkdir(parents=True, exist_ok=True)
    counts = {"units": 0, "establishments": 0, "ess": 0}

    def open_out(base: str):
        if as_zip:
            archive = zipfile.ZipFile(out / f"{base}.zip", "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6)
            raw = archive.open(f"{base}.csv", "w", force_zip64=True)
            return archive, io.TextIOWrapper(raw, encoding="utf-8", newline="")
        stream = open(out / f"{base}.csv", "w", encoding="utf-8", newline="")
        return None, stream

    unit_archive, unit_out = open_out("StockUniteLegale_utf8")
    est_archive, est_out = open_out("StockEtablissement_utf8")
    unit_out.write(",".join(unit_header) + "\n")
    est_out.write(",".join(est_header) + "\n")
    blank_unit = [""] * 35
    blank_est = [""] * 53
    unit_lines, est_lines = [], []
    for n in range(units):
        prefix = f"{90000000 + n:08d}"
        siren = prefix + luhn_key(prefix)
        ess = rng.random() < 0.04
        category = rng.choice(ESS_CATEGORIES) if ess else rng.choice(OTHER_CATEGORIES)
        if ess and rng.random() < 0.05:
            category = "5710"  # a SCIC SAS or a qualified commercial company: ESS by the flag only
        flag = ("O" if rng.random() < 0.9 or category == "5710" else "") if ess else ("N" if rng.random() < 0.03 else "")
        natural = category == "1000"
        ceased = rng.random() < 0.45
        row = list(blank_unit)
        row[0] = siren
        row[ui["statutDiffusionUniteLegale"]] = "P" if rng.random() < (0.05 if natural else 0.005) else "O"
        row[ui["dateCreationUniteLegale"]] = f"{rng.randint(1950, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        band = rng.choice(BANDS)
        row[ui["trancheEffectifsUniteLegale"]] = band
        row[ui["anneeEffectifsUniteLegale"]] = "2023" if band not in ("", "NN") else ""
        row[ui["dateDernierTraitementUniteLegale"]] = "2025-12-06T05:25:38"
        row[ui["nombrePeriodesUniteLegale"]] = str(rng.randint(1, 9))
        row[ui["etatAdministratifUniteLegale"]] = "C" if ceased else "A"
        if natural:
            row[ui["sexeUniteLegale"]] = rng.choice("MF")
            row[ui["prenom1UniteLegale"]] = rng.choice(WORDS).title()
            row[ui["nomUniteLegale"]] = rng.choice(WORDS)
        else:
            row[ui["denominationUniteLegale"]] = name(rng)
            if rng.random() < 0.1:
                row[ui["sigleUniteLegale"]] = "".join(w[0] for w in row[ui["denominationUniteLegale"]].strip('"').split()[:4])
        row[ui["categorieJuridiqueUniteLegale"]] = category
        row[ui["activitePrincipaleUniteLegale"]] = rng.choice(NAF)
        row[ui["nomenclatureActivitePrincipaleUniteLegale"]] = "NAFRev2"
        row[ui["economieSocialeSolidaireUniteLegale"]] = flag
        row[ui["societeMissionUniteLegale"]] = "O" if rng.random() < 0.001 else ""
        row[ui["caractereEmployeurUniteLegale"]] = rng.choice("ON")
        establishments = 1
        while rng.random() < 0.29:
            establishments += 1
        for nic_number in range(1, establishments + 1):
            nic_prefix = siren + f"{nic_number:04d}"
            siret = nic_prefix + luhn_key(nic_prefix)
            if nic_number == 1:
                row[ui["nicSiegeUniteLegale"]] = siret[9:]
            e = list(blank_est)
            e[0], e[1], e[2] = siren, siret[9:], siret
            e[ei["statutDiffusionEtablissement"]] = row[ui["statutDiffusionUniteLegale"]]
            e[ei["dateCreationEtablissement"]] = row[ui["dateCreationUniteLegale"]]
            e[ei["dateDernierTraitementEtablissement"]] = "2025-12-06T05:25:38"
            e[ei["etablissementSiege"]] = "true" if nic_number == 1 else "false"
            e[ei["nombrePeriodesEtablissement"]] = "1"
            roll = rng.random()
            code = rng.choice(former) if roll < 0.02 else ("99999" if roll < 0.023 else rng.choice(current))
            e[ei["numeroVoieEtablissement"]] = str(rng.randint(1, 120))
            e[ei["typeVoieEtablissement"]] = rng.choice(["RUE", "AV", "BD", "PL", "CHE"])
            e[ei["libelleVoieEtablissement"]] = rng.choice(WORDS) + " " + rng.choice(WORDS)
            e[ei["codePostalEtablissement"]] = code[:2] + "000" if code[:2].isdigit() else "20000"
            e[ei["libelleCommuneEtablissement"]] = rng.choice(WORDS)
            e[ei["codeCommuneEtablissement"]] = code
            if rng.random() < 0.7:
                e[ei["coordonneeLambertAbscisseEtablissement"]] = f"{rng.uniform(150000, 1050000):.1f}"
                e[ei["coordonneeLambertOrdonneeEtablissement"]] = f"{rng.uniform(6200000, 7000000):.1f}"
            e[ei["dateDebut"]] = row[ui["dateCreationUniteLegale"]]
            e[ei["etatAdministratifEtablissement"]] = "F" if ceased or rng.random() < 0.3 else "A"
            e[ei["activitePrincipaleEtablissement"]] = row[ui["activitePrincipaleUniteLegale"]]
            e[ei["nomenclatureActivitePrincipaleEtablissement"]] = "NAFRev2"
            e[ei["caractereEmployeurEtablissement"]] = rng.choice("ON")
            est_lines.append(",".join(e))
        counts["establishments"] += establishments
        counts["ess"] += ess
        unit_lines.append(",".join(row))
        if len(unit_lines) >= 20000:
            unit_out.write("\n".join(unit_lines) + "\n")
            est_out.write("\n".join(est_lines) + "\n")
            unit_lines, est_lines = [], []
    if unit_lines:
        unit_out.write("\n".join(unit_lines) + "\n")
        est_out.write("\n".join(est_lines) + "\n")
    for archive, stream in ((unit_archive, unit_out), (est_archive, est_out)):
        stream.close()
        if archive is not None:
            archive.close()
    counts["units"] = units
    (out / "counts.json").write_text(json.dumps(counts), encoding="utf-8")
    return counts


# -- rows copied from the real samples, in any layout, with a chosen share of kept units -------------

LAYOUTS = {33: "sirene_sample_unitelegale.csv", 34: "fictif/StockUniteLegale_fictif.csv",
           35: "sirene_sample_unitelegale_2026schema.csv"}  # INSEE's headers: 2019-2021, 2024, 2026


def rows_of(name: str) -> list[dict]:
    with open(FIXTURES / name, encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def ess_categories() -> set[str]:
    """The legal categories of the ESS families, from the code list (as the ingest reads them)."""
    sys.path.insert(0, str(ROOT))
    from ptcekb.ingest.sirene.rows import load_reference

    return set(load_reference(ROOT).ess_categories)


def generate_from_samples(units: int, out: Path, layout: int = 35, kept_share: float = 0.04, as_zip: bool = True,
                          seed: int = 2026) -> dict:
    """Stock files whose rows are copied from the real samples of tests/fixtures/sirene/ (the 526
    legal units of the 33-column sample and the 9 of the 35-column one; the 299 establishments),
    written in the ``layout`` of INSEE (33, 34 or 35 columns, columns matched by name), with
    ``kept_share`` of the units drawn from the rows the ingest keeps (ESS flag or ESS legal
    category) and the others from the rows it drops. SIRENs, NICs and SIRETs are renumbered
    (fictional, valid Luhn keys, from 900000000) so that every unit is distinct; everything else
    is the real rows' values (the samples hold no individual entrepreneur). Each unit gets 1 + a
    geometric number of establishments (1.41 on average), copied from the real establishment rows."""
    rng = random.Random(seed)
    unit_header = header(LAYOUTS[layout])
    est_header = header("sirene_sample_etablissement.csv")
    ess = ess_categories()
    real = rows_of(LAYOUTS[33]) + rows_of(LAYOUTS[35])
    kept_pool = [r for r in real if r["economieSocialeSolidaireUniteLegale"] == "O" or r["categorieJuridiqueUniteLegale"] in ess]
    dropped_pool = [r for r in real if r not in kept_pool]
    est_pool = rows_of("sirene_sample_etablissement.csv")
    out.mkdir(parents=True, exist_ok=True)
    counts = {"units": units, "establishments": 0, "ess": 0, "layout": layout, "kept_share": kept_share,
              "source": "real samples"}

    def open_out(base: str):
        if as_zip:
            archive = zipfile.ZipFile(out / f"{base}.zip", "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6)
            return archive, io.TextIOWrapper(archive.open(f"{base}.csv", "w", force_zip64=True), encoding="utf-8", newline="")
        return None, open(out / f"{base}.csv", "w", encoding="utf-8", newline="")

    unit_archive, unit_out = open_out("StockUniteLegale_utf8")
    est_archive, est_out = open_out("StockEtablissement_utf8")
    units_csv = csv.writer(unit_out, lineterminator="\n")
    est_csv = csv.writer(est_out, lineterminator="\n")
    units_csv.writerow(unit_header)
    est_csv.writerow(est_header)
    for n in range(units):
        prefix = f"{90000000 + n:08d}"
        siren = prefix + luhn_key(prefix)
        keep = rng.random() < kept_share
        row = dict(rng.choice(kept_pool if keep else dropped_pool))
        counts["ess"] += keep
        row["siren"] = siren
        if "activitePrincipaleNAF25UniteLegale" in unit_header and "activitePrincipaleNAF25UniteLegale" not in row:
            naf = row["activitePrincipaleUniteLegale"]  # as INSEE fills it: the NAF 2025 code of the activity
            row["activitePrincipaleNAF25UniteLegale"] = naf[:5] + "Y" if row["nomenclatureActivitePrincipaleUniteLegale"] == "NAFRev2" else ""
        first_nic = int(row["nicSiegeUniteLegale"][:4] or "1")
        establishments = 1
        while rng.random() < 0.29:
            establishments += 1
        for k in range(establishments):
            nic4 = f"{(first_nic + k) % 10000:04d}"
            siret = siren + nic4 + luhn_key(siren + nic4)
            if k == 0:
                row["nicSiegeUniteLegale"] = siret[9:]
            e = dict(rng.choice(est_pool))
            e["siren"], e["nic"], e["siret"] = siren, siret[9:], siret
            e["etablissementSiege"] = "true" if k == 0 else "false"
            est_csv.writerow([e.get(c, "") for c in est_header])
        counts["establishments"] += establishments
        units_csv.writerow([row.get(c, "") for c in unit_header])
    for archive, stream in ((unit_archive, unit_out), (est_archive, est_out)):
        stream.close()
        if archive is not None:
            archive.close()
    (out / "counts.json").write_text(json.dumps(counts), encoding="utf-8")
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--csv", action="store_true", help="plain CSV instead of zip")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--from-samples", action="store_true",
                        help="rows copied from the real samples (tests/fixtures/sirene/) instead of random ones")
    parser.add_argument("--layout", type=int, choices=sorted(LAYOUTS), default=35, help="with --from-samples")
    parser.add_argument("--kept-share", type=float, default=0.04, help="with --from-samples: share of kept units")
    args = parser.parse_args()
    started = time.monotonic()
    if args.from_samples:
        counts = generate_from_samples(args.units, args.out, args.layout, args.kept_share, not args.csv, args.seed)
    else:
        counts = generate(args.units, args.out, not args.csv, args.seed)
    print(f"wrote {counts['units']:,} legal units ({counts['ess']:,} ESS) and {counts['establishments']:,} "
          f"establishments into {args.out} in {time.monotonic() - started:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
