"""The ``retouch`` command line: thin typer commands over the core.

Every method's settings come from its registered settings model: after
``--method NAME`` any ``--setting value`` the method takes is accepted
(``--flag`` / ``--no-flag`` for yes/no settings) and checked with the same
rules as the Python API. A user's mistake prints one line and exits 1.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, Optional

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from . import io, registry
from .validate import RetouchError, is_out_of_memory, out_of_memory_text
from .inpaint import EmptyMaskWarning

app = typer.Typer(
    name="retouch",
    help="Remove and repair things in photos: segment what should go, refine the mask, fill the hole.",
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)

err = Console(stderr=True, highlight=False, soft_wrap=True)  # a long path stays on its line
out = Console(highlight=False, soft_wrap=True)

_EXTRA = {"allow_extra_args": True, "ignore_unknown_options": True}


class UsageError(RetouchError):
    """A command-line mistake (one line, exit 1)."""


def friendly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a user's mistake into one line on stderr and exit status 1."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", EmptyMaskWarning)
                return fn(*args, **kwargs)
        except RetouchError as e:
            err.print(f"[bold red]error:[/] {e}", soft_wrap=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            err.print("[yellow]interrupted[/]: nothing half-written was left behind")
            raise typer.Exit(130) from None
        except Exception as e:
            if not is_out_of_memory(e):
                raise
            err.print(f"[bold red]error:[/] {out_of_memory_text(e)}", soft_wrap=True)
            raise typer.Exit(1) from None

    return wrapper


# --------------------------------------------------------------------------- parsing helpers


def _numbers(text: str, what: str, count: int | None = None) -> list[float]:
    parts = [p for p in text.replace(" ", "").split(",") if p != ""]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise UsageError(f"{what} must be comma-separated numbers, got {text!r}") from None
    if count is not None and len(values) != count:
        raise UsageError(f"{what} needs {count} numbers separated by commas, got {text!r}")
    return values


def parse_box(text: str) -> tuple[float, float, float, float]:
    """``X,Y,W,H`` -> tuple."""
    x, y, w, h = _numbers(text, "--box X,Y,W,H", 4)
    return x, y, w, h


def parse_point(text: str) -> tuple[float, float]:
    """``X,Y`` -> tuple."""
    x, y = _numbers(text, "--point X,Y", 2)
    return x, y


def parse_click(text: str) -> tuple[float, float, bool]:
    """``X,Y`` (positive) or ``-X,Y`` (negative); ``+X,Y`` is positive too."""
    t = text.strip()
    positive = not t.startswith("-")
    t = t.lstrip("+-")
    x, y = _numbers(t, "--click X,Y (or -X,Y for a negative click)", 2)
    return x, y, positive


def parse_color(text: str) -> tuple[float, float, float]:
    """``R,G,B`` in 0..255 or ``#rrggbb``."""
    t = text.strip()
    if t.startswith("#"):
        h = t[1:]
        if len(h) == 3:
            h = "".join(c * 2 for c in h)
        if len(h) != 6:
            raise UsageError(f"--color must be R,G,B or #rrggbb, got {text!r}")
        try:
            return tuple(float(int(h[i : i + 2], 16)) for i in (0, 2, 4))  # type: ignore[return-value]
        except ValueError:
            raise UsageError(f"--color must be R,G,B or #rrggbb, got {text!r}") from None
    r, g, b = _numbers(t, "--color R,G,B", 3)
    return r, g, b


def _value(text: str) -> Any:
    """A setting's value from the command line: JSON, a comma list, or a string."""
    try:
        return json.loads(text)
    except ValueError:
        pass
    if "," in text:
        parts = [p.strip() for p in text.split(",")]
        vals: list[Any] = []
        for p in parts:
            try:
                vals.append(json.loads(p))
            except ValueError:
                vals.append(p)
        return vals
    return text


def parse_settings(args: list[str], method: registry.Method) -> dict[str, Any]:
    """``--name value`` / ``--flag`` / ``--no-flag`` pairs -> a settings dict for ``method``."""
    fields = method.settings.model_fields
    settings: dict[str, Any] = {}
    i = 0
    while i < len(args):
        a = args[i]
        if not a.startswith("--"):
            raise UsageError(f"unexpected argument {a!r}; settings are given as --name value")
        key, eq, val = a[2:].partition("=")
        name = key.replace("-", "_")
        negated = False
        if name not in fields and name.startswith("no_") and name[3:] in fields:
            name, negated = name[3:], True
        if name not in fields:
            known = ", ".join("--" + f.replace("_", "-") for f in fields) or "none"
            raise UsageError(f"--{key} is not a setting of {method.kind} method '{method.name}' (its settings: {known})")
        annotation = fields[name].annotation
        is_bool = annotation is bool
        if negated:
            settings[name] = False
            i += 1
            continue
        if eq:
            settings[name] = _value(val)
            i += 1
        elif is_bool and (i + 1 >= len(args) or args[i + 1].startswith("--") or args[i + 1].lower() not in ("true", "false", "0", "1", "yes", "no")):
            settings[name] = True
            i += 1
        else:
            if i + 1 >= len(args):
                raise UsageError(f"--{key} needs a value")
            settings[name] = _value(args[i + 1])
            i += 2
    return settings


def _settings_help(kind: str) -> str:
    lines = [f"[bold]{kind} methods and their settings[/] (give them as --name value):"]
    for m in registry.methods(kind):
        opts = ", ".join(f"--{f.replace('_', '-')}" for f in m.settings.model_fields)
        lines.append(f"  [cyan]{m.name}[/]: {opts or '(no settings)'}")
    return "\n\n".join(lines)


def _check_max_pixels(max_pixels: int) -> None:
    if max_pixels < 1:
        raise UsageError(f"--max-pixels must be a positive number of pixels, got {max_pixels}")


def _read_image(path: Path, max_pixels: int | None, output: Path | None = None) -> tuple[np.ndarray, io.ImageInfo]:
    image, info = io.read_with_info(path, max_pixels=max_pixels)
    if output is not None:
        io.check_writable(output, image)  # refuse before any work, not after it
    return image, info


def _default_output(image_path: Path, suffix: str) -> Path:
    """IMAGE.SUFFIX.EXT beside the input; .png for an input format retouch reads but does not write (GIF)."""
    ext = image_path.suffix if image_path.suffix.lower() in io.FORMATS else ".png"
    return image_path.with_name(f"{image_path.stem}.{suffix}{ext}")


def _check_outputs(outputs: dict[str, Path | None], inputs: dict[str, Path | None], overwrite: bool) -> None:
    """Refuse, before any work, every destination that could not be written at the end of it.

    ``outputs`` and ``inputs`` map an option's name ("the output", "the mask")
    to its path. An output that is one of the inputs, an existing file without
    --overwrite, two outputs on one file, an unknown extension, a missing
    folder or one that takes no new file: each is one line, and nothing is
    computed or written.
    """
    seen: dict[Path, str] = {}
    for label, output in outputs.items():
        if output is None:
            continue
        key = output.resolve()
        if key in seen:
            raise UsageError(f"{seen[key]} and {label} are both {output}; give them different names")
        seen[key] = label
        if output.exists() and not overwrite:
            same = next((what for what, p in inputs.items() if p is not None and p.exists() and key == p.resolve()), None)
            text = f"is {same}" if same else "already exists"
            raise UsageError(f"{output} {text}; choose another output name or pass --overwrite to replace it")
        if output.suffix.lower() not in io.FORMATS:
            raise UsageError(f"cannot tell the format of {output} from its extension; use one of {', '.join(sorted(io.FORMATS))}")
        io.check_destination(output, overwrite=overwrite)


def _percent(mask: np.ndarray) -> str:
    return f"{100.0 * mask.mean():.2f} %"


def _timed(label: str, fn: Callable[[], Any]) -> Any:
    t0 = time.perf_counter()
    with err.status(f"{label}…", spinner="dots"):
        result = fn()
    err.print(f"[green]✓[/] {label} ({time.perf_counter() - t0:.2f} s)")
    return result


def _method_or_exit(kind: str, name: str) -> registry.Method:
    return registry.get(kind, name)


MaxPixels = typer.Option(io.DEFAULT_MAX_PIXELS, "--max-pixels", help="Refuse images with more pixels than this.")
Overwrite = typer.Option(False, "--overwrite", help="Replace the output file if it exists (even the input).")


# --------------------------------------------------------------------------- commands


@app.command(
    context_settings=_EXTRA,
    epilog="Example: [bold]retouch segment photo.jpg --method grabcut --box 120,40,200,260 -o mask.png --overlay preview.png[/]",
)
@friendly
def segment(
    ctx: typer.Context,
    image: Path = typer.Argument(..., help="Image file to segment."),
    method: str = typer.Option(..., "--method", "-m", help="Segmentation method (see `retouch methods segment`)."),
    output: Path = typer.Option(..., "--output", "-o", help="Mask file to write (white = selected)."),
    box: Optional[str] = typer.Option(None, "--box", help="Box X,Y,W,H in pixels."),
    point: list[str] = typer.Option([], "--point", help="Point X,Y (repeatable): seeds, picked segments, foreground."),
    click: list[str] = typer.Option([], "--click", help="Click X,Y (positive) or -X,Y (negative), repeatable."),
    color: Optional[str] = typer.Option(None, "--color", help="Colour R,G,B (0-255) or #rrggbb."),
    overlay: Optional[Path] = typer.Option(None, "--overlay", help="Also write a preview of the mask over the image."),
    overwrite: bool = Overwrite,
    max_pixels: int = MaxPixels,
) -> None:
    """Make a mask with one segmentation method.

    Method settings follow as --name value; `retouch methods segment` lists them.
    """
    m = _method_or_exit("segment", method)
    settings = parse_settings(list(ctx.args), m)
    settings.update(_ui_inputs(m, box=box, points=point, clicks=click, color=color))
    _check_max_pixels(max_pixels)
    _check_outputs({"the output": output, "--overlay": overlay}, {"the input image": image}, overwrite)
    img, _ = _read_image(image, max_pixels, overlay)
    mask = _timed(f"segmented with {m.name}", lambda: m(img, settings=settings))
    files: list[tuple[Path, np.ndarray, io.ImageInfo | None]] = [(output, mask, None)]
    if overlay is not None:
        from .convert import overlay as make_overlay

        files.append((overlay, make_overlay(img, mask), None))
    io.write_all(files, overwrite=overwrite)
    err.print(f"mask: {_percent(mask)} of the image selected")
    out.print(f"wrote {output}" + (f" and {overlay}" if overlay else ""))


def _ui_inputs(m: registry.Method, *, box: str | None, points: list[str], clicks: list[str], color: str | None) -> dict[str, Any]:
    """Map the friendly --box / --point / --click / --color options onto a method's settings."""
    fields = m.settings.model_fields
    given: dict[str, Any] = {}

    def need(option: str, names: tuple[str, ...]) -> str:
        for n in names:
            if n in fields:
                return n
        raise UsageError(f"{m.kind} method '{m.name}' does not take {option}")

    if box is not None:
        given[need("--box", ("box",))] = parse_box(box)
    if points:
        given[need("--point", ("seeds", "points", "foreground", "point"))] = [parse_point(p) for p in points]
        if "point" in fields and "points" not in fields and "seeds" not in fields and "foreground" not in fields:
            given["point"] = given["point"][0]
    if clicks:
        given[need("--click", ("clicks",))] = [parse_click(c) for c in clicks]
    if color is not None:
        given[need("--color", ("color",))] = parse_color(color)
    return given


@app.command(
    context_settings=_EXTRA,
    epilog="Example: [bold]retouch fill photo.jpg mask.png --method patchmatch -o clean.jpg[/]",
)
@friendly
def fill(
    ctx: typer.Context,
    image: Path = typer.Argument(..., help="Image file to fill."),
    mask: Path = typer.Argument(..., help="Mask file: non-zero (white) pixels are filled."),
    method: Optional[str] = typer.Option(None, "--method", "-m", help="Inpainting method (default auto; see `retouch methods inpaint`)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Output file (default IMAGE.filled.EXT)."),
    mask_threshold: float = typer.Option(0, "--mask-threshold", help="Mask pixels above this 8-bit value are filled."),
    overwrite: bool = Overwrite,
    max_pixels: int = MaxPixels,
) -> None:
    """Fill the white pixels of a mask file.

    Method settings follow as --name value; `retouch methods inpaint` lists them.
    """
    from .pipeline import DEFAULT_INPAINT

    m = _method_or_exit("inpaint", method or DEFAULT_INPAINT)
    settings = parse_settings(list(ctx.args), m)
    m.validate(settings)
    _check_max_pixels(max_pixels)
    output = output or _default_output(image, "filled")
    _check_outputs({"the output": output}, {"the input image": image, "the mask": mask}, overwrite)
    img, info = _read_image(image, max_pixels, output)
    hole = io.read_mask(mask, shape=img.shape, threshold=mask_threshold, max_pixels=max_pixels)
    if not hole.any():
        raise UsageError(f"the mask {mask} is empty (no pixel above {mask_threshold:g}); nothing to fill, nothing written")
    if hole.all():
        raise UsageError(f"the mask {mask} covers the whole image, so there is nothing to fill from; nothing written")
    from .pipeline import fill as fill_and_blend

    result = _timed(f"filled {_percent(hole)} of the image with {m.name}", lambda: fill_and_blend(img, hole, method=m.name, settings=settings))
    io.write_all([(output, result, info)], overwrite=overwrite)
    out.print(f"wrote {output}")


_INPUT_FLAGS = {"box": "--box", "points": "--point", "clicks": "--click", "color": "--color"}
"""The ``remove`` option that gives each of a recipe's per-image inputs (``@box`` ...)."""


@app.command(
    epilog=(
        "Examples:\n\n"
        "  [bold]retouch remove photo.jpg --box 350,0,125,290 -o clean.png[/]  (GrabCut in the box, then fill)\n\n"
        "  [bold]retouch remove photo.jpg --click 400,120 --click -300,200 -o clean.png[/]\n\n"
        "  [bold]retouch remove photo.jpg --point 40,60 --tolerance 12 -o clean.png[/]  (magic wand)\n\n"
        "  [bold]retouch remove photo.jpg --color '#ff0000' --tolerance 20 -o clean.png[/]\n\n"
        "  [bold]retouch remove photo.jpg --recipe recipe.toml -o clean.png[/]"
    ),
)
@friendly
def remove(
    image: Path = typer.Argument(..., help="Image file."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Output file (default IMAGE.retouched.EXT)."),
    box: Optional[str] = typer.Option(None, "--box", help="Box X,Y,W,H around the object (GrabCut)."),
    point: list[str] = typer.Option([], "--point", help="Point X,Y on the object (repeatable): magic wand, or GrabCut seeds with --box."),
    click: list[str] = typer.Option([], "--click", help="Click X,Y (positive) or -X,Y (negative), repeatable."),
    color: Optional[str] = typer.Option(None, "--color", help="Remove this colour: R,G,B (0-255) or #rrggbb."),
    tolerance: Optional[float] = typer.Option(None, "--tolerance", help="Colour tolerance (Lab delta E) for --point and --color."),
    mask: Optional[Path] = typer.Option(None, "--mask", help="A mask file to start from (white = remove)."),
    mask_threshold: float = typer.Option(0, "--mask-threshold", help="Mask pixels above this 8-bit value count."),
    grow: float = typer.Option(3, "--grow", help="Grow the selection by this many pixels before filling."),
    method: Optional[str] = typer.Option(None, "--method", "-m", help="Inpainting method (default auto)."),
    recipe: Optional[Path] = typer.Option(None, "--recipe", help="A recipe file (JSON or TOML) instead of the options above."),
    save_mask: Optional[Path] = typer.Option(None, "--save-mask", help="Also write the mask that was filled."),
    overwrite: bool = Overwrite,
    max_pixels: int = MaxPixels,
) -> None:
    """Select something and fill it, in one step."""
    from .pipeline import Recipe, recipe_for_remove

    given = {
        "box": parse_box(box) if box else None,
        "points": [parse_point(p) for p in point] or None,
        "clicks": [parse_click(c) for c in click] or None,
        "color": parse_color(color) if color else None,
    }
    inputs: dict[str, Any] = {}
    if recipe is not None:
        rec = Recipe.load(recipe)
        # --box / --point / --click / --color feed the recipe's "@box", "@points", "@clicks", "@color" settings
        inputs = {k: v for k, v in given.items() if v is not None}
        unused = sorted(set(inputs) - set(rec.needs))
        if unused:
            raise UsageError(
                f"the recipe {recipe} takes no " + ", ".join(f"@{u}" for u in unused)
                + f" (its per-image inputs: {', '.join('@' + n for n in rec.needs) or 'none'}); leave out "
                + ", ".join(_INPUT_FLAGS.get(u, "--" + u) for u in unused)
            )
        missing = sorted(set(rec.needs) - set(inputs))
        if missing:
            raise UsageError(
                f"the recipe {recipe} needs " + ", ".join(f"@{m}" for m in missing)
                + " for each image; give " + ", ".join(_INPUT_FLAGS.get(m, "--" + m) for m in missing)
            )
    else:
        rec = recipe_for_remove(**given, tolerance=tolerance, has_mask=mask is not None, grow=grow, method=method)
    _check_max_pixels(max_pixels)
    output = output or _default_output(image, "retouched")
    _check_outputs(
        {"the output": output, "--save-mask": save_mask}, {"the input image": image, "the mask": mask, "the recipe": recipe}, overwrite
    )
    img, info = _read_image(image, max_pixels, output)
    start = io.read_mask(mask, shape=img.shape, threshold=mask_threshold, max_pixels=max_pixels) if mask else None
    if start is not None and not rec.segment and not start.any():
        raise UsageError(f"the mask {mask} is empty; nothing to remove, nothing written")
    selected, weight = _timed("selected " + " + ".join(s.method for s in rec.segment) if rec.segment else "read the mask", lambda: rec.make_mask(img, start, inputs=inputs or None))
    if not selected.any():
        raise UsageError("the selection is empty, so there is nothing to remove; nothing written (try a larger tolerance or another box)")
    if selected.all():
        raise UsageError("the selection covers the whole image, so there is nothing to fill from; nothing written")
    from .pipeline import fill as fill_and_blend

    inp = rec.inpaint
    result = _timed(f"filled {_percent(selected)} of the image with {inp.method}",
                    lambda: fill_and_blend(img, selected, method=inp.method, settings=inp.settings, weight=weight))
    io.write_all([(output, result, info)] + ([(save_mask, selected, None)] if save_mask is not None else []), overwrite=overwrite)
    out.print(f"wrote {output}" + (f" and {save_mask}" if save_mask else ""))


@app.command(epilog="Example: [bold]retouch restore scan.tif -o restored.tif --save-mask damage.png[/]")
@friendly
def restore(
    image: Path = typer.Argument(..., help="Image file (a scan, a photo with dust or a date stamp)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Output file (default IMAGE.restored.EXT)."),
    damage: Optional[bool] = typer.Option(None, "--damage/--no-damage", help="Find damage as real scans show it: cracks, creases, hair, dust, foxing."),
    scratches: Optional[bool] = typer.Option(None, "--scratches/--no-scratches", help="Also run the classical scratch detector (long straight lines; off by default: it takes rules, frames and rims for scratches)."),
    spots: Optional[bool] = typer.Option(None, "--spots/--no-spots", help="Run the dust detector, for a heavily dusted scan (off by default: damage finds dust too, and on old photos this one also took real detail for dust; --damage --text --spots adds it to the defaults)."),
    text: Optional[bool] = typer.Option(None, "--text/--no-text", help="Find overlaid text such as date stamps and captions, along the top and bottom edges."),
    grow: float = typer.Option(1, "--grow", help="Grow the detected mask by this many pixels."),
    method: Optional[str] = typer.Option(None, "--method", "-m", help="Inpainting method (default auto)."),
    spot_certainty: Optional[float] = typer.Option(
        None, "--spot-certainty", help="How sure the dust detector must be, 0 to 1 (default 0.3): lower finds more dust and marks more that is not."),
    save_mask: Optional[Path] = typer.Option(None, "--save-mask", help="Also write the detected mask."),
    labels: bool = typer.Option(
        False, "--labels", help="Write --save-mask labelled by category: 64 thin (cracks, creases, scratches, hair), "
        "128 spots (dust, dirt, foxing), 192 losses (torn corners, lost emulsion), 255 overlaid text; 0 none."),
    overwrite: bool = Overwrite,
    max_pixels: int = MaxPixels,
) -> None:
    """Detect damage (cracks, scratches, hair, dust, foxing, losses) and overlaid text, and fill them.

    The damage and text detectors run by default; naming some
    (--damage, --scratches, --spots, --text) runs only those, and --no-X
    leaves one out.
    """
    from .pipeline import RESTORE_DEFAULTS, recipe_for_restore

    flags = {"damage": damage, "scratches": scratches, "spots": spots, "text": text}
    if any(v is True for v in flags.values()):
        chosen = {k: bool(v) for k, v in flags.items()}
    else:
        chosen = {k: RESTORE_DEFAULTS[k] and v is not False for k, v in flags.items()}
    rec = recipe_for_restore(**chosen, grow=grow, method=method, spot_certainty=spot_certainty)
    if labels and save_mask is None:
        raise UsageError("--labels labels the mask that --save-mask writes; give --save-mask FILE too")
    _check_max_pixels(max_pixels)
    output = output or _default_output(image, "restored")
    _check_outputs({"the output": output, "--save-mask": save_mask}, {"the input image": image}, overwrite)
    img, info = _read_image(image, max_pixels, output)
    what = "detected " + ", ".join(k for k, v in chosen.items() if v)
    if labels:
        from .pipeline import restore_labels

        labelled = _timed(what, lambda: restore_labels(img, rec))
        selected = labelled > 0
    else:
        selected, _ = _timed(what, lambda: rec.make_mask(img))
    if selected.any():
        from .pipeline import fill as fill_and_blend

        inp = rec.inpaint
        result = _timed(f"filled {_percent(selected)} of the image with {inp.method}",
                        lambda: fill_and_blend(img, selected, method=inp.method, settings=inp.settings))
    else:
        err.print("no damage found; the output is an unchanged copy")
        result = img
    written = labelled if labels else selected
    io.write_all([(output, result, info)] + ([(save_mask, written, None)] if save_mask is not None else []), overwrite=overwrite)
    out.print(f"wrote {output}" + (f" and {save_mask}" if save_mask else ""))


@app.command(epilog="Example: [bold]retouch methods inpaint[/]   or   [bold]retouch methods --json[/]")
@friendly
def methods(
    kind: Optional[str] = typer.Argument(None, help="segment, refine or inpaint (default: all)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (names, summaries, settings with defaults and JSON schema)."),
) -> None:
    """List every method with a one-line description and its settings with defaults."""
    if kind is not None and kind not in registry.KINDS:
        raise UsageError(f"kind must be one of {', '.join(registry.KINDS)}, got {kind!r}")
    ms = registry.methods(kind)
    if as_json:
        data = [
            {"kind": m.kind, "name": m.name, "summary": m.summary, "settings": m.settings.model_json_schema()}
            for m in ms
        ]
        out.print_json(json.dumps(data))
        return
    table = Table(show_lines=False, header_style="bold")
    table.add_column("kind", style="dim")
    table.add_column("method", style="cyan", no_wrap=True)
    table.add_column("what it does")
    table.add_column("settings (default)")
    for m in ms:
        settings = "\n".join(
            f"{name}={'required' if d == 'required' else repr(d)}" for name, _t, d, _desc in m.describe()
        )
        table.add_row(m.kind, m.name, m.summary, settings or "-")
    out.print(table)


@app.command(epilog="Example: [bold]retouch demo --out retouch-demo[/]")
@friendly
def demo(
    out_dir: Path = typer.Option(Path("retouch-demo"), "--out", help="Folder to write the pictures into."),
) -> None:
    """Remove the rocket from scikit-image's launch-pad photo and show each step."""
    from .demo import run_demo

    run_demo(out_dir, console=err)


@app.command(
    epilog=(
        "Examples:\n\n"
        "  [bold]retouch recipe --example > recipe.toml[/]\n\n"
        "  [bold]retouch batch photos/ cleaned/ --recipe recipe.toml[/]  (all cores; rerun to resume)\n\n"
        "  [bold]retouch batch s3://bucket/in s3://bucket/out --recipe recipe.toml --scheduler tcp://HOST:8786[/]"
    ),
)
@friendly
def batch(
    input: str = typer.Argument(..., help="Folder of images (searched recursively), or an fsspec URL."),
    output: str = typer.Argument(..., help="Folder for the results (the input tree is kept), or an fsspec URL."),
    recipe: Path = typer.Option(..., "--recipe", "-r", help="Recipe file (JSON or TOML); `retouch recipe --example` prints one."),
    workers: Optional[int] = typer.Option(None, "--workers", "-w", min=0, help="Local worker processes (default: one per core; 0 = in this process)."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Run on a Dask cluster: its scheduler address, tcp://HOST:8786."),
    masks: Optional[str] = typer.Option(None, "--masks", help="Mask folder (replaces the recipe's \\[inputs] masks)."),
    sidecar: Optional[str] = typer.Option(None, "--sidecar", help="CSV / JSON of per-image boxes or points (replaces \\[inputs] sidecar)."),
    report: Optional[str] = typer.Option(None, "--report", help="JSON report file (default OUTPUT/retouch-report.json)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only say how many images would be done, skipped and failed."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Redo every image, replacing existing outputs."),
    max_pixels: int = MaxPixels,
) -> None:
    """Run a recipe over a folder of images: locally on all cores, or on a Dask cluster.

    Outputs are written atomically; run the same command again after a stop
    (Ctrl+C, a killed process) and only what is not done yet is processed.
    Exits 1 when an image failed (the report says why), 130 when interrupted.
    """
    from . import batch as batch_mod
    from .pipeline import Inputs, Recipe

    if scheduler is not None and workers is not None:
        raise UsageError("give either --workers (local processes) or --scheduler (a Dask cluster), not both")
    _check_max_pixels(max_pixels)
    rec = Recipe.load(recipe)
    override = {k: (v if "://" in v else str(Path(v).expanduser().resolve())) for k, v in (("masks", masks), ("sidecar", sidecar)) if v}
    if override:
        rec = rec.model_copy(update={"inputs": (rec.inputs or Inputs()).model_copy(update=override)})
    if dry_run:
        journal = batch_mod.Journal(batch_mod.default_state(output)).load()
        p = batch_mod.plan(input, output, rec, overwrite=overwrite, journal=journal)
        out.print(f"{p.total} images: {len(p.tasks)} to do ({sum(t.redo for t in p.tasks)} redone), {len(p.skipped)} skipped, {len(p.failed)} would fail")
        for r in p.failed[:20]:
            out.print(f"  [red]✗[/] {r['key']}: {r['error']}", soft_wrap=True)
        return
    result = batch_mod.run(
        input, output, rec, workers=workers, scheduler=scheduler, overwrite=overwrite, report=report, max_pixels=max_pixels, console=err
    )
    err.print(batch_mod.summary(result))
    if result.interrupted:
        raise typer.Exit(130)
    if result.failed or result.report_error:
        raise typer.Exit(1)


@app.command(
    epilog="Examples: [bold]retouch recipe --example > recipe.toml[/]   [bold]retouch recipe --check recipe.toml[/]",
)
@friendly
def recipe(
    example: bool = typer.Option(False, "--example", help="Print a commented example recipe (TOML) that loads as-is."),
    check: Optional[Path] = typer.Option(None, "--check", help="Validate a recipe file and print it with every setting filled in."),
) -> None:
    """Print an example recipe, or check one."""
    from .pipeline import EXAMPLE_TOML, Recipe

    if example == (check is not None):
        raise UsageError("give --example or --check FILE")
    if example:
        sys.stdout.write(EXAMPLE_TOML)
        return
    rec = Recipe.load(check)  # type: ignore[arg-type]
    err.print(f"[green]✓[/] {check} is a valid recipe" + (f" (per-image inputs: {', '.join('@' + n for n in rec.needs)})" if rec.needs else ""))
    sys.stdout.write(rec.to_json() + "\n")


@app.command(epilog="Example: [bold]retouch serve photo.jpg[/]   then open http://127.0.0.1:8765 in a browser")
@friendly
def serve(
    image: Optional[Path] = typer.Argument(None, help="An image to open when the page loads."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on; anything but 127.0.0.1 / localhost lets other machines in."),
    port: int = typer.Option(8765, "--port", help="Port to listen on."),
    max_pixels: int = typer.Option(100_000_000, "--max-pixels", help="Refuse uploads with more pixels than this."),
    max_upload_mb: float = typer.Option(100.0, "--max-upload-mb", help="Refuse uploads larger than this many MiB."),
    max_sessions: int = typer.Option(8, "--max-sessions", help="Most images held at once (the least recently used goes first)."),
    memory_mb: float = typer.Option(2048.0, "--memory-mb", help="Most memory all open images may hold together, in MiB."),
    session_minutes: float = typer.Option(60.0, "--session-minutes", help="Idle minutes after which an image is dropped."),
) -> None:
    """Start the local web app (FastAPI + uvicorn) and print its address."""
    import socket

    from pydantic import ValidationError

    try:
        import uvicorn

        from .web import WebConfig, create_app
    except ImportError as e:
        raise UsageError(f"the web app needs FastAPI and uvicorn ({e.name} is missing); install them with: pip install 'retouch[web]'") from None
    if not (0 < port < 65536):
        raise UsageError(f"--port must be in 1..65535, got {port}")
    try:
        config = WebConfig(
            max_pixels=max_pixels,
            max_upload_bytes=int(max_upload_mb * 2**20),
            max_sessions=max_sessions,
            max_memory_bytes=int(memory_mb * 2**20),
            session_ttl=session_minutes * 60.0,
            allowed_hosts=["127.0.0.1", "localhost", "::1", host] if host not in ("0.0.0.0", "::") else ["*"],
        )
    except ValidationError as e:
        first = e.errors()[0]
        raise UsageError(f"{first['loc'][0]}: {first['msg']}") from None
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as e:
        raise UsageError(f"cannot listen on {host}:{port} ({e.strerror}); choose another --port or --host") from None
    application = create_app(config, image=image)
    shown = f"[{host}]" if ":" in host else host
    if host not in ("127.0.0.1", "localhost", "::1"):
        err.print(
            f"[bold yellow]warning:[/] listening on {host}: anyone who can reach this machine can upload images and use its "
            "processor; there is no password. Use the default 127.0.0.1 unless you mean it.",
            soft_wrap=True,
        )
        if host in ("0.0.0.0", "::"):
            shown = "<this machine's address>"
    out.print(f"retouch web app: http://{shown}:{port}/   (API docs: http://{shown}:{port}/docs)   Ctrl+C stops it", soft_wrap=True)
    uvicorn.run(application, host=host, port=port, log_level="warning")


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
