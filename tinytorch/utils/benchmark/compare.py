"""``Compare``: measurements as tables, as ``torch.utils.benchmark.Compare``.

One table per ``label``; in it, one row per ``sub_label`` (grouped by thread count) and one
column per ``description``. Each cell is the median time per run, in one unit per table.
"""

from tinytorch.utils.benchmark.common import Measurement, time_unit


class Compare:
    """Tables of median times; ``print()`` shows them.

    Example::

        >>> Compare([m_float, m_int8]).print()
    """

    def __init__(self, results: list[Measurement]) -> None:
        self._results: list[Measurement] = []
        self._trim = False
        self.extend_results(results)

    def extend_results(self, results: list[Measurement]) -> None:
        for result in results:
            if not isinstance(result, Measurement):
                raise TypeError(
                    f"Compare: expected Measurement objects, got {type(result).__name__}; "
                    "pass what Timer.timeit / blocked_autorange return"
                )
        self._results.extend(results)

    def trim_significant_figures(self) -> None:
        """Show only the digits each measurement can justify (``significant_figures``)."""
        self._trim = True

    def print(self) -> None:
        print(str(self))

    def __str__(self) -> str:
        labels = list(dict.fromkeys(result.label for result in self._results))
        return "\n".join(self._table(label) for label in labels)

    def _table(self, label: str | None) -> str:
        results = [result for result in self._results if result.label == label]
        columns = list(dict.fromkeys(result.description for result in results))
        scale, unit, unit_name = time_unit(min(result.median for result in results))
        cells = {
            (result.num_threads, result.sub_label, result.description): self._cell(result, scale)
            for result in results
        }
        rows = list(dict.fromkeys((result.num_threads, result.sub_label) for result in results))
        row_width = max(len(str(sub_label or "")) for _, sub_label in rows) + 6
        width = max([len(text) for text in cells.values()] + [len(str(c or "")) for c in columns])
        header = " " * row_width + "".join(f"|  {str(c or ''):>{width}}  " for c in columns)
        lines = [header.rstrip()]
        for threads in dict.fromkeys(threads for threads, _ in rows):
            title = f"{threads} threads: "
            lines.append(title + "-" * max(len(header) - len(title), 4))
            for _, sub_label in (row for row in rows if row[0] == threads):
                values = [cells.get((threads, sub_label, column), "") for column in columns]
                line = f"{str(sub_label or ''):>{row_width - 2}}  "
                lines.append(line + "".join(f"|  {value:>{width}}  " for value in values))
        top = f" {label or ''} "
        dashes = max(len(header) - len(top) - 2, 4)
        banner = "[" + "-" * (dashes // 2) + top + "-" * (dashes - dashes // 2) + "]"
        return "\n".join([banner, *lines, "", f"Times are in {unit_name} ({unit}).", ""])

    def _cell(self, result: Measurement, scale: float) -> str:
        value = result.median / scale
        if not self._trim:
            return f"{value:.1f}"
        digits_before_point = len(str(int(value))) if value >= 1 else 1
        decimals = max(result.significant_figures - digits_before_point, 0)
        return f"{value:.{decimals}f}"
