"""The ``ptcekb`` command line (contract in DESIGN.md)."""

from __future__ import annotations

import argparse
import gzip
import socket
import sys
from pathlib import Path

import pyoxigraph as ox

from . import __version__
from .config import SOURCES_ROOT, Settings
from .errors import UserError
from .files import replaced_atomically
from .ingest.cog import SNAPSHOT as COG_SNAPSHOT, UPSTREAM_COPY as COG_UPSTREAM
from .remote import open_store
from .store import StoreLocation

DUMP_FORMATS = {".nq": ox.RdfFormat.N_QUADS, ".trig": ox.RdfFormat.TRIG, ".nq.gz": ox.RdfFormat.N_QUADS}


def _settings(args) -> Settings:
    return Settings.from_env(store=getattr(args, "store", None), base_iri=getattr(args, "base_iri", None))


def _artefacts(settings: Settings):
    """What the service shows of a whole build (dumps, statistics, indexes), made before it is
    published (ptcekb/service/artefacts.py); none for a remote store (made by the service)."""
    from .service import artefacts

    if settings.store_url:
        return None
    return lambda store, build, seconds: artefacts.write(settings, store, build, seconds)


def cmd_build(args) -> int:
    from .build import build

    settings = _settings(args)
    report = build(settings, before_publishing=_artefacts(settings))
    for warning in report.warnings:
        print(f"ptcekb: warning: {warning}", file=sys.stderr)
    print(f"built {report.triples:,} triples in {len(report.graphs)} graphs into {report.store}", file=sys.stderr)
    return 0


def cmd_serve(args) -> int:
    import uvicorn

    from .service.app import create_app
    from .service.http_protocol import protocol

    settings = _settings(args)
    sock = _bind(args.host, args.port)  # before the build: a busy port fails fast
    if args.build:
        cmd_build(args)
    elif not _built(settings):
        if not _is_default_store(settings):  # a mistyped --store must not silently become a new 200 MB build
            sock.close()
            raise UserError(f"no knowledge base at {_where(settings)}; build it with: ptcekb build --store "
                            f"{_where(settings)} (or serve with --build)")
        print(f"no knowledge base at {_where(settings)}: building it first", file=sys.stderr)
        cmd_build(args)
    app = create_app(settings)
    config = uvicorn.Config(app, log_level=args.log_level, access_log=args.log_level == "debug",
                            http=protocol(settings.header_timeout))
    print(f"serving {_where(settings)} on http://{args.host}:{args.port}/", file=sys.stderr)
    uvicorn.Server(config).run(sockets=[sock])
    return 0


def _is_default_store(settings: Settings) -> bool:
    """No --store and no PTCEKB_STORE: the store of the quickstart, which serve builds when missing."""
    return not settings.store_url and "store" not in settings.model_fields_set


def _where(settings) -> str:
    return settings.store_url or str(settings.store)


def _built(settings) -> bool:
    """A published local build, or a remote engine that holds a build's graph/meta."""
    if not settings.store_url:
        return StoreLocation(settings.store).exists()
    meta = settings.ns.meta_graph
    return bool(open_store(settings).query(f"ASK {{ GRAPH <{meta}> {{ ?s ?p ?o }} }}"))


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # accepted sockets inherit it (Linux); uvicorn sets it only on sockets it binds itself, and without
    # it Nagle + delayed ACK add ~40 ms to every response written in more than one segment
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise UserError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


def cmd_query(args) -> int:
    from .query import execute, read_query_argument, render

    text = read_query_argument(args.query)
    store = open_store(_settings(args))
    sys.stdout.buffer.write(render(execute(store, text), args.format))
    return 0


def cmd_dump(args) -> int:
    output = Path(args.output)
    suffix = next((s for s in sorted(DUMP_FORMATS, key=len, reverse=True) if output.name.endswith(s)), None)
    if suffix is None:
        raise UserError(f"dump file must end with {', '.join(DUMP_FORMATS)}: {output}")
    store = open_store(_settings(args))
    try:
        with replaced_atomically(output) as partial, open(partial, "wb") as raw:
            stream = gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) if suffix.endswith(".gz") else raw
            store.dump(stream, format=DUMP_FORMATS[suffix])
            stream.close()
    except OSError as exc:
        raise UserError(f"cannot write {output}: {exc.strerror or exc}") from None
    print(f"wrote {output}", file=sys.stderr)
    return 0


def cmd_validate(args) -> int:
    from .validate import ValidationContext, load_input, render, validate

    settings = _settings(args)
    if args.ptce:
        if args.files:
            raise UserError("give files or --ptce, not both / des fichiers ou --ptce, pas les deux", exit_code=2)
        return _validate_curated(args, settings)
    if not args.files:
        raise UserError("nothing to validate: give files or --ptce / rien à valider", exit_code=2)
    store = open_store(settings)
    data = load_input([Path(p) for p in args.files], settings)
    build = None if settings.store_url else StoreLocation(settings.store).current()
    report = validate(data, ValidationContext(store, settings, build))
    sys.stdout.buffer.write(render(report, args.format, args.lang))
    import gc

    gc.freeze()  # the command ends here: spares the interpreter's last collection a walk through every graph (~0.1 s)
    return 0 if report.conforms and report.ptces else 1


def _validate_curated(args, settings) -> int:
    """Article 9 of curated PTCEs of the store, as documentation: the computation the service shows
    (ptcekb/documentation.py, kept next to the build). Exit 1 when an element is contradicted."""
    from .documentation import documented, render

    store = open_store(settings)
    known = documented(store, settings, settings.store_url or StoreLocation(settings.store).current())
    if args.ptce == ["all"]:
        chosen = list(known.values())
    else:
        iris = [p if ":" in p else settings.ns.id("ptce", p) for p in args.ptce]
        unknown = [iri for iri in iris if iri not in known]
        if unknown:
            raise UserError(f"not a curated PTCE of the store / PTCE inconnu : {', '.join(unknown)}", exit_code=2)
        chosen = [known[iri] for iri in dict.fromkeys(iris)]
    sys.stdout.buffer.write(render(chosen, args.format, args.lang))
    return 1 if any(e.status == "contradicted" for d in chosen for e in d.elements) else 0


def cmd_docs(args) -> int:
    from .docs import write_static_docs
    from .service.negotiation import RDF_REPRESENTATIONS

    settings = _settings(args)
    formats = {r.suffix: r.rdf_format for r in RDF_REPRESENTATIONS}
    written = write_static_docs(open_store(settings), settings, Path(args.output), formats)
    print(f"wrote {len(written)} files into {args.output}", file=sys.stderr)
    return 0


def cmd_ingest_cog(args) -> int:
    from .ingest.cog import make_snapshot

    data = make_snapshot(Path(args.source), Path(args.output))
    counts = ", ".join(f"{len(data[k]):,} {k}" for k in ("communes", "epci", "ept", "arrondissements", "departements", "regions"))
    print(f"wrote {args.output}: {counts}", file=sys.stderr)
    return 0


def cmd_ingest_template(args) -> int:
    from .ingest.template import ingest_template, used_prefixes
    from .namespaces import PREFIXES

    settings = _settings(args)
    directory, output = Path(args.directory), Path(args.output)
    knowledge_base = Settings.from_env()  # territories keep the KB's IRIs whatever --base-iri says
    result = ingest_template(directory, settings.ns, settings.sources_root, knowledge_base.ns)
    for reject in result.rejects:
        print(f"{directory / reject.file}:{reject.line}: {reject.reason}", file=sys.stderr)
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        with replaced_atomically(output) as partial:
            ox.serialize(result.triples, output=str(partial), format=ox.RdfFormat.TURTLE,
                         prefixes=used_prefixes(result.triples, PREFIXES))
    except OSError as exc:
        raise UserError(f"cannot write {output}: {exc.strerror or exc}") from None
    kept = ", ".join(f"{n} row(s) of {name}" for name, n in result.kept.items())
    print(f"wrote {output}: {len(result.triples):,} triples from {kept}; {len(result.rejects)} rejected", file=sys.stderr)
    return 1 if result.rejects else 0


def cmd_ingest_sirene(args) -> int:
    from .publish import ingest_sirene

    settings = _settings(args)
    report = ingest_sirene(settings, Path(args.unites_legales), Path(args.etablissements) if args.etablissements else None,
                           _artefacts(settings))
    s = report.summary
    kinds = ", ".join(f"{n:,} {kind}" for kind, n in sorted(s.rejects.items())) or "none"
    statuses: dict[str, int] = {}
    for row in report.members:
        statuses[row["statut"]] = statuses.get(row["statut"], 0) + 1
    suggested = sum(1 for row in report.members if row["candidats"])
    print(f"read {s.unit_rows:,} legal units and {s.establishment_rows:,} establishments in {s.seconds.get('total', 0):.0f} s", file=sys.stderr)
    print(f"kept {s.kept_units:,} legal units ({s.kept_ess_flag:,} with the ESS flag, {s.kept_ess_category:,} of an ESS "
          f"legal category, {s.kept_referenced:,} referenced by PTCE members) and {s.kept_establishments:,} establishments "
          f"({s.points:,} points); {s.natural_persons_skipped:,} individual entrepreneurs left out (privacy)", file=sys.stderr)
    print(f"rejected / rejets: {kinds} -> {report.directory / 'rejects.csv'}", file=sys.stderr)
    print("PTCE members / membres: " + (", ".join(f"{n:,} {k}" for k, n in sorted(statuses.items())) or "none")
          + f" ({suggested} with suggested candidates) -> {report.directory / 'membres.csv'}", file=sys.stderr)
    print(f"graph/sirene: {s.triples:,} triples published in {report.store}", file=sys.stderr)
    return 0


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="ptcekb", description="Knowledge base of the French PTCEs (article 9, loi ESS 2014).")
    main.add_argument("--version", action="version", version=f"ptcekb {__version__}")
    commands = main.add_subparsers(dest="command", required=True)

    def command(name: str, handler, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        sub.add_argument("--store", help="store directory (default var/store, PTCEKB_STORE), or the query endpoint "
                                         "of a SPARQL engine (http(s)://…; docs/deployment.md)")
        return sub

    build = command("build", cmd_build, "build every source into the store (atomic)")
    build.add_argument("--base-iri", help="base IRI of minted resources (PTCEKB_BASE_IRI)")

    serve = command("serve", cmd_serve, "serve the knowledge base over HTTP (the default store is built first if "
                                        "missing; another store only with --build)")
    serve.add_argument("--build", action="store_true", help="build the knowledge base from the sources before serving")
    serve.add_argument("--base-iri", help="base IRI used if a build is needed (PTCEKB_BASE_IRI)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--log-level", default="warning", choices=["critical", "error", "warning", "info", "debug"])

    query = command("query", cmd_query, "run a SPARQL query (string or @file.rq) on the store")
    query.add_argument("query", help="the query, or @FILE.rq")
    query.add_argument("--format", default="table", choices=["table", "json", "csv", "tsv", "turtle"])

    dump = command("dump", cmd_dump, "write the whole dataset to a file (.nq, .trig, .nq.gz)")
    dump.add_argument("-o", "--output", required=True)

    validate = command("validate", cmd_validate, "validate RDF files or publisher template directories against article 9")
    validate.add_argument("files", nargs="*", help="Turtle, TriG, JSON-LD, RDF/XML, N-Triples files, or template directories")
    validate.add_argument("--ptce", action="append", metavar="IRI|SLUG|all",
                          help="curated PTCEs of the store instead of files: article 9 as documentation (repeatable)")
    validate.add_argument("--format", default="human", choices=["human", "turtle", "json-ld", "html"])
    validate.add_argument("--lang", default="fr", choices=["fr", "en"])

    docs = command("docs", cmd_docs, "write the static documentation of the ontology and its code lists")
    docs.add_argument("-o", "--output", required=True, help="output directory")

    ingest = commands.add_parser("ingest", help="turn an upstream source into the project's files")
    sources = ingest.add_subparsers(dest="source", required=True)
    cog = sources.add_parser("cog", help="regenerate the COG snapshot from Etalab's decoupage-administratif JSON files")
    cog.set_defaults(handler=cmd_ingest_cog)
    cog.add_argument("--from", dest="source", default=str(SOURCES_ROOT / COG_UPSTREAM),
                     help="directory of communes.json, epci.json... (or their .json.gz); default: the copy in data/upstream/cog-2026")
    cog.add_argument("-o", "--output", default=str(SOURCES_ROOT / COG_SNAPSHOT))
    template = sources.add_parser(
        "template", help="turn a publisher CSV template (ptce.csv, membres.csv...) into Turtle",
        description="Turn a publisher CSV template into Turtle. Rejected rows are printed as FILE:LINE: reason; "
                    "exit 0 if none, 1 if some (the valid rows are still written), 2 if the input is unreadable.")
    template.set_defaults(handler=cmd_ingest_template)
    template.add_argument("directory", help="directory holding ptce.csv and the optional membres.csv, projets.csv, lieux.csv, ressources.csv")
    template.add_argument("-o", "--output", required=True, help="Turtle file to write (.ttl)")
    template.add_argument("--base-iri", help="base IRI of minted resources (PTCEKB_BASE_IRI); the example uses https://example.org/ptce-demo/")
    sirene = sources.add_parser(
        "sirene", help="load the ESS units of INSEE's SIRENE stock files (and PTCE members' units) into graph/sirene",
        description="Stream INSEE's SIRENE stock files (CSV or zip) and replace the store's graph/sirene atomically with "
                    "the ESS legal units, the units referenced by PTCE members, and their establishments. Rejected rows "
                    "go to STORE.sirene/rejects.csv, the members' linking to STORE.sirene/membres.csv. "
                    "Exit 0 when the graph was published (even with rejected rows), 2 if an input is unreadable.")
    sirene.set_defaults(handler=cmd_ingest_sirene)
    sirene.add_argument("--unites-legales", required=True, metavar="FILE", help="StockUniteLegale_utf8.csv or .zip")
    sirene.add_argument("--etablissements", metavar="FILE", help="StockEtablissement_utf8.csv or .zip")
    sirene.add_argument("--store", help="store directory (default var/store, PTCEKB_STORE), or a remote store's query "
                                        "endpoint http(s)://… (its graphs copied to a scratch store, the new build "
                                        "published back: docs/deployment.md)")
    return main


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.handler(args)
    except UserError as exc:
        print(f"ptcekb: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("ptcekb: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug of ours: still one line, the traceback on demand
        if Settings.from_env().debug:
            raise
        print(f"ptcekb: internal error: {exc!r} (set PTCEKB_DEBUG=1 for the traceback)", file=sys.stderr)
        return 70


if __name__ == "__main__":
    sys.exit(main())
