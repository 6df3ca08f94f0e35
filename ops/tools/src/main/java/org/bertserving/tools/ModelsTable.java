package org.bertserving.tools;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The second-model benchmark's table: one Markdown row per figure of model A, one column per
 * cluster (A alone first, then with model B's workers beside it), each later column followed by its
 * ratio to the first, so that what a second model costs is read off directly.
 */
final class ModelsTable {
  /**
   * One figure in every column: its name, a {@link String#format} pattern for a value, and whether
   * a ratio to the first column means anything (not for counts that should be 0).
   */
  record Figure(String name, String pattern, boolean ratio, double[] values) {}

  private final List<String> columns;
  private final List<Figure> figures = new ArrayList<>();

  ModelsTable(List<String> columns) {
    this.columns = List.copyOf(columns);
  }

  /** Adds a figure, one value a column (NaN: not measured, printed as "-"). */
  ModelsTable add(String name, String pattern, boolean ratio, double... values) {
    if (values.length != columns.size()) {
      throw new IllegalArgumentException(
          name + ": " + values.length + " values for " + columns.size() + " columns");
    }
    figures.add(new Figure(name, pattern, ratio, values.clone()));
    return this;
  }

  /** The table, the first cell of the header row {@code corner}. */
  String render(String corner) {
    StringBuilder out = new StringBuilder("| ").append(corner).append(" |");
    StringBuilder rule = new StringBuilder("|---|");
    for (int c = 0; c < columns.size(); c++) {
      out.append(' ').append(columns.get(c)).append(" |");
      rule.append("---:|");
      if (c > 0) {
        out.append(" × |");
        rule.append("---:|");
      }
    }
    out.append('\n').append(rule).append('\n');
    for (Figure f : figures) {
      out.append("| ").append(f.name()).append(" |");
      for (int c = 0; c < columns.size(); c++) {
        out.append(' ').append(value(f.pattern(), f.values()[c])).append(" |");
        if (c > 0) {
          out.append(' ').append(f.ratio() ? ratio(f.values()[c], f.values()[0]) : "").append(" |");
        }
      }
      out.append('\n');
    }
    return out.toString();
  }

  private static String value(String pattern, double v) {
    return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, pattern, v);
  }

  /** {@code v / base} to two places, "-" when either is not a number or the base is 0. */
  static String ratio(double v, double base) {
    if (Double.isNaN(v) || Double.isNaN(base) || base == 0) {
      return "-";
    }
    return String.format(Locale.ROOT, "%.2f", v / base);
  }
}
