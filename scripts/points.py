"""The points of a ``scripts.evaluate`` sweep: ``NAME:KEY=VAL,...`` specs parsed into
typed sampler and search options (checked together), and the labels of their rows."""
from __future__ import annotations

from pydantic import ValidationError

from sampling import OPTIONS
from sampling.search import SearchOptions, check_decoding

DEFAULT_POINTS = (["eb:gamma=" + g for g in ("0", "0.001", "0.01", "0.1", "0.3", "1", "3")]
                  + [f"topk:k={k}" for k in (1, 2, 4, 8)]
                  + [f"threshold:tau={t}" for t in (0.99, 0.9, 0.7)]
                  + [f"random:steps={s}" for s in (8, 16, 32, 64)] + ["ar"])
# ``scripts.evaluate --rivals``: EB beside the samplers published after it, three settings each.
RIVAL_POINTS = (["topk:k=1"] + ["eb:gamma=" + g for g in ("0.001", "0.01", "0.1", "0.3")]
                + ["klass:tau=0.9,kl=0.01", "klass:tau=0.8,kl=0.05", "klass:tau=0.99,kl=0.001"]
                + ["dilated:block=0", "dilated:block=32", "dilated:block=8"]
                + ["remask:remask_tau=0.5", "remask:remask_tau=0.3",
                   "remask:remask_tau=0.7,remask_budget=16"])


def parse_point(spec: str) -> tuple[str, dict, dict | None]:
    """'eb:gamma=0.1,search=1' -> ('eb', sampler options, search options or None)."""
    name, _, rest = spec.partition(":")
    if name == "ar":            # 'ar' or 'ar:beam=K' (beam search; solver / path order ARMs only)
        try:
            kv = dict(p.split("=", 1) for p in rest.split(",") if p)
            beam = int(kv.pop("beam", 1))
        except ValueError:
            raise ValueError(f"bad point {spec!r}: expected 'ar' or 'ar:beam=K'") from None
        if kv or beam < 1:
            raise ValueError(f"bad point {spec!r}: 'ar' takes only beam=K with K >= 1")
        return "ar", {"temperature": 0.0, "beam": beam}, None
    if name not in OPTIONS:
        raise ValueError(f"unknown sampler {name!r} in {spec!r}")
    try:
        kv = dict(p.split("=", 1) for p in rest.split(",") if p)
    except ValueError:
        raise ValueError(f"bad point {spec!r}: expected NAME:KEY=VAL,...") from None
    g = {k: kv.pop(k) for k in list(kv) if k in SearchOptions.model_fields}
    for k in ("search_budget", "search_views", "search_restart"):
        if k in g and g.get("search", "0").lower() in ("0", "false", "no"):
            raise ValueError(f"bad point {spec!r}: {k} applies with search=1")
    try:
        opts, guided = OPTIONS[name](**kv).model_dump(), (SearchOptions(**g).dump() if g else None)
        check_decoding(opts, guided, name)
        return name, opts, guided
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(str(x) for x in err["loc"])
        raise ValueError(f"bad point {spec!r}: {where + ': ' if where else ''}"
                         f"{err['msg'].removeprefix('Value error, ')}") from None
    except ValueError as e:
        raise ValueError(f"bad point {spec!r}: {e}") from None


ORDER_LABEL = {"raster": "raster (givens copied)", "solver": "solver order", "path": "path order"}


def arm_label(order: str, opts: dict, any_size: bool = False) -> str:
    """The row label of an ARM point; ``any_size`` marks the ARM that reads every maze size
    (beside a fixed-size ARM of the same order, their rows would read alike)."""
    return (f"ARM {ORDER_LABEL[order]}" + (", any size" if any_size else "")
            + (f", beam {opts['beam']}" if opts.get("beam", 1) > 1 else ""))


def label(name: str, opts: dict, guided: dict | None = None) -> str:
    keys = {"eb": ("gamma",), "topk": ("k",), "threshold": ("tau",), "random": ("steps",), "klass": ("tau", "kl"),
            "dilated": ("block",), "remask": ("gamma", "remask_tau", "remask_budget")}.get(name, ())
    out = " ".join([name] + [f"{k.replace('remask_', 'r')}={opts[k]}" for k in keys])
    proxy = OPTIONS[name].model_fields.get("proxy") if name in OPTIONS else None
    if proxy is not None and opts.get("proxy", proxy.default) != proxy.default:
        out += f" proxy={opts['proxy']}"        # only where it is not the sampler's default
    if guided:
        out += f" +rules {guided['rules']}" if guided.get("rules", "none") != "none" else ""
        out += f" +best-first {guided['search_budget']}" if guided["search"] else ""
        if guided.get("search_views", 1) > 1:
            out += f" views {guided['search_views']}/{guided['search_restart']}"
    return out
