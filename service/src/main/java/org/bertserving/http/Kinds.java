package org.bertserving.http;

import java.util.Arrays;
import java.util.Comparator;
import org.bertserving.client.protocol.EncodeRequest;
import org.bertserving.cluster.ServedModel;
import org.bertserving.cluster.ServedModels;
import org.bertserving.engine.ModelKind;

/**
 * What the routes share about models: the model a request targets (by name, or by the kind its
 * route needs) and the refusal of one of the wrong kind; ranking, cosine.
 */
final class Kinds {
  /** Highest {@code score} first (a stable sort keeps ties in the input order). */
  static <T> Comparator<T> highestFirst(java.util.function.ToDoubleFunction<T> score) {
    return Comparator.comparingDouble((T t) -> -score.applyAsDouble(t));
  }

  private Kinds() {}

  /**
   * The model a request goes to, as this node's frontend knows it from its workers' descriptions
   * ({@link ServedModels}), never from this node's own engine settings (only defaults on a
   * frontend-only node).
   *
   * @param model the model as described, or {@code null}: not known here (the frontend answers: a
   *     404 for a name no worker ever served, a 503 before any worker joined)
   * @param name the name to send the request with ({@code null}: the frontend's default)
   * @param refused the error to answer instead, or {@code null}
   */
  record Target(ServedModel model, String name, ApiError refused) {
    /** The request, sent to this model. */
    EncodeRequest on(EncodeRequest request) {
      return name == null ? request : request.withModel(name);
    }

    /** Whether the model answers token vectors ({@code -pooling_strategy NONE}). */
    boolean tokenLevel() {
      return model != null && model.tokenLevel();
    }
  }

  /**
   * The model a request for {@code route} goes to: the one it names ({@code asked}), refused (TEI
   * answers 424) when that model is of none of the kinds the route {@code serves}; when it names
   * none, the cluster's model of the first of those kinds it serves ({@link ServedModels#ofKind}),
   * refused when it serves none of them, naming the default model's kind.
   */
  static Target target(Api api, String asked, String route, ModelKind... serves) {
    ServedModels served = api.served();
    if (asked != null && !asked.isBlank()) {
      ServedModel model = served.get(asked);
      if (model == null || Arrays.asList(serves).contains(model.kind())) {
        return new Target(model, asked, null);
      }
      return new Target(model, asked, wrongKind(model, route, serves, ""));
    }
    ServedModel model = served.ofKind(serves);
    if (model != null) {
      return new Target(model, model.name(), null);
    }
    ServedModel fallback = served.defaultModel();
    if (fallback == null) {
      return new Target(null, null, null); // no worker described yet: the frontend says so
    }
    return new Target(
        fallback,
        fallback.name(),
        wrongKind(fallback, route, serves, " (the models served: " + served.names() + ")"));
  }

  private static ApiError wrongKind(
      ServedModel model, String route, ModelKind[] serves, String served) {
    ModelKind kind = model.kind();
    return ApiError.of(
        424,
        "unsupported",
        "model '"
            + model.name()
            + "' is of kind "
            + kind.wireName()
            + ", which serves "
            + kind.routes()
            + "; "
            + route
            + " needs a model of kind "
            + String.join(" or ", Arrays.stream(serves).map(ModelKind::wireName).toList())
            + served);
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
    // a text whose pooling covers no token (spaces alone under -mask_cls_sep) has no direction
    return aa == 0 || bb == 0 ? 0f : (float) (dot / Math.sqrt(aa * bb));
  }
}
