"""Any recorded JSON value (a manifest's extra measurements, a results file) as Markdown.

Why it exists: docs/results.md is written from the files that record each run
(data/pretrained/*.json, data/results/*.json), whose shapes differ from one
measurement to the next (a sweep by guidance weight, a curve over iterations,
mean and std over seeds). A per-file template would go stale the day a file
gains a field, so this module renders any such value with a few generic rules:

* a dict whose values are all flat dicts (``{"bicubic": {"PSNR": ..}, ..}``) is a table, one row per key;
* a list of dicts is a table, one row per item; columns whose value is the same in every row are
  stated once above the table; ``mean`` and ``std`` dicts become ``mean ± std`` cells;
* a list of numbers is one line; any other dict is a bullet list, nested.

Tables from Markdown libraries (tabulate, pandas) format one flat table; the
rules above (hoisting constant columns, mean ± std) are what they lack.
Deterministic: the same file gives the same text byte for byte.
"""

MAX_CELL_ITEMS = 6  # a flat dict with more leaves is written inside one cell as "k: v, ..."


def number(value):
    """One recorded value as text: integers with thousands separators, floats to 4 significant digits."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value.is_integer() and abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.4g}"
    if value is None:
        return "-"
    return str(value).replace("|", "\\|").replace("\n", " ")


def _is_scalar(value):
    return value is None or isinstance(value, (bool, int, float, str))


def _is_flat(value):
    return isinstance(value, dict) and all(_is_scalar(v) for v in value.values())


def cell(value):
    if _is_scalar(value):
        return number(value)
    if isinstance(value, list) and all(_is_scalar(v) for v in value):
        return ", ".join(number(v) for v in value)
    if _is_flat(value):
        return ", ".join(f"{k}: {number(v)}" for k, v in value.items())
    return "(nested)"


def _row_cells(item):
    """A list item as {column: text}; mean/std dicts merge into 'mean ± std' columns."""
    cells = {}
    mean, std = item.get("mean"), item.get("std")
    merged = isinstance(mean, dict) and isinstance(std, dict)
    for key, value in item.items():
        if merged and key in ("mean", "std"):
            continue
        if _is_flat(value):
            for sub, sub_value in value.items():
                cells[f"{key}: {sub}"] = number(sub_value)
        elif _is_scalar(value) or (isinstance(value, list) and all(_is_scalar(v) for v in value)):
            cells[key] = cell(value)
        # deeper values (per-seed curves) stay in the file: a table cell cannot hold them
    if merged:
        for key, value in mean.items():
            spread = std.get(key)
            cells[key] = number(value) + (f" ± {number(spread)}" if _is_scalar(spread) and spread is not None else "")
    return cells


def table(rows, first_column=None):
    """rows: [(label or None, {column: text})] as a Markdown table; constant columns stated above it."""
    columns = []
    for _, cells in rows:
        columns += [c for c in cells if c not in columns]
    constant = {}
    if len(rows) > 1:
        for column in columns:
            values = {cells.get(column) for _, cells in rows}
            if len(values) == 1 and None not in values:
                constant[column] = values.pop()
    shown = [c for c in columns if c not in constant]
    lines = []
    if constant:
        lines.append("In every row: " + "; ".join(f"{k} = {v}" for k, v in constant.items()) + ".")
        lines.append("")
    header = ([first_column] if first_column else []) + shown
    if not header:
        return "\n".join(lines).rstrip()
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "---|" * len(header))
    for label, cells in rows:
        values = ([label] if first_column else []) + [cells.get(c, "") for c in shown]
        lines.append("| " + " | ".join(values) + " |")
    return "\n".join(lines)


def render(value, depth=0):
    """Markdown for any JSON value; ``depth`` indents nested bullet lists."""
    pad = "  " * depth
    if _is_scalar(value):
        return pad + number(value)
    if isinstance(value, list):
        if all(_is_scalar(v) for v in value):
            return pad + cell(value)
        if all(isinstance(v, dict) for v in value):
            return _indent(table([(None, _row_cells(item)) for item in value]), pad)
        return "\n".join(f"{pad}- " + render(v, depth + 1).lstrip() for v in value)
    if _is_columns(value):
        length = len(next(iter(value.values())))
        return _indent(table([(None, {k: number(v[i]) for k, v in value.items()}) for i in range(length)]), pad)
    if value and all(_is_flat(v) for v in value.values()):
        return _indent(table([(number(k), {c: number(x) for c, x in v.items()}) for k, v in value.items()],
                             first_column=" "), pad)
    lines = []
    for key, item in sorted(value.items(), key=lambda pair: not _is_short(pair[1])):  # short items first
        if _is_short(item):
            lines.append(f"{pad}- {key}: {cell(item)}")
        else:
            lines.append(f"{pad}- {key}:")
            lines.append("")
            lines.append(render(item, depth + 1))
            lines.append("")
    return "\n".join(lines)


def _is_short(item):
    """Fits on one bullet line: a scalar, a list of scalars, or a small flat dict."""
    return (_is_scalar(item) or (isinstance(item, list) and all(_is_scalar(v) for v in item))
            or (_is_flat(item) and len(item) <= MAX_CELL_ITEMS))


def _is_columns(value):
    """A dict of equally long lists of numbers (a curve: step, value, ...), shown as one table."""
    lists = list(value.values()) if isinstance(value, dict) else []
    return (len(lists) > 1 and all(isinstance(v, list) and v and all(_is_scalar(x) for x in v) for v in lists)
            and len({len(v) for v in lists}) == 1 and len(lists[0]) > 1)


def _indent(text, pad):
    return "\n".join(pad + line if line else line for line in text.splitlines())
