package org.bertserving.http;

import java.util.Arrays;
import java.util.Comparator;
import java.util.Map;
import org.bertserving.engine.ModelKind;

/** What the scoring routes share: the refusal of a model of the wrong kind, ranking, cosine. */
final class Kinds {
  /** Highest {@code score} (or {@code relevance_score}) first; ties keep the input order. */
  static final Comparator<Map<String, Object>> HIGHEST_FIRST =
      Comparator.comparingDouble(
          (Map<String, Object> m) ->
              -((Number) m.getOrDefault("score", m.get("relevance_score"))).doubleValue());

  private Kinds() {}

  /**
   * {@code null} when the served model is of one of the kinds {@code route} needs; otherwise the
   * error naming the model's kind and the routes it does serve (TEI answers 424 for this).
   */
  static ApiError refusal(Api api, String route, ModelKind... serves) {
    ModelKind kind = api.settings.engine().kind();
    if (Arrays.asList(serves).contains(kind)) {
      return null;
    }
    return ApiError.of(
        424,
        "unsupported",
        "model '"
            + api.settings.engine().modelName()
            + "' is of kind "
            + kind.wireName()
            + ", which serves "
            + kind.routes()
            + "; "
            + route
            + " needs a model of kind "
            + String.join(" or ", Arrays.stream(serves).map(ModelKind::wireName).toList()));
  }

  /** Cosine similarity, in double. */
  static float cosine(float[] a, float[] b) {
    double dot = 0;
    double aa = 0;
    double bb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += (double) a[i] * b[i];
      aa += (double) a[i] * a[i];
      bb += (double) b[i] * b[i];
    }
    return (float) (dot / Math.sqrt(aa * bb));
  }
}
