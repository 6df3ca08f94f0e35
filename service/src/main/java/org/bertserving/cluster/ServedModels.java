package org.bertserving.cluster;

import java.util.List;
import org.bertserving.engine.ModelKind;

/**
 * The models a frontend knows, as their workers described them, in the order their first workers
 * joined, and the default model: an immutable snapshot the frontend publishes ({@link
 * Metrics#served}) each time a model joins, read by the HTTP routes of its node without asking the
 * actor. A route that names no model picks one here by the kind it needs.
 *
 * @param models every model known (workers joined at least once)
 * @param defaultName the model of requests that name none, or {@code null} (none known yet)
 */
public record ServedModels(List<ServedModel> models, String defaultName) {
  public static final ServedModels NONE = new ServedModels(List.of(), null);

  public ServedModels {
    models = List.copyOf(models);
  }

  /** The model of that name, or {@code null} when no worker of it has joined. */
  public ServedModel get(String name) {
    for (ServedModel m : models) {
      if (m.name().equals(name)) {
        return m;
      }
    }
    return null;
  }

  /** The default model, or {@code null}. */
  public ServedModel defaultModel() {
    return defaultName == null ? null : get(defaultName);
  }

  /**
   * The model a route that names none goes to: of the first of {@code kinds} the cluster serves,
   * the default model if it is of that kind, else the first of that kind to join; {@code null} when
   * none is of any of them.
   */
  public ServedModel ofKind(ModelKind... kinds) {
    ServedModel fallback = defaultModel();
    for (ModelKind kind : kinds) {
      if (fallback != null && fallback.kind() == kind) {
        return fallback;
      }
      for (ServedModel m : models) {
        if (m.kind() == kind) {
          return m;
        }
      }
    }
    return null;
  }

  /** Each model's name and kind, for error messages: {@code a (embedding), b (rerank)}. */
  /** Why a request naming {@code name} is refused (a 404): the name and {@code served}. */
  public static String notServed(String name, String served) {
    return "the model '" + name + "' is not served here; the models served: " + served;
  }

  public String names() {
    return String.join(
        ", ", models.stream().map(m -> m.name() + " (" + m.kind().wireName() + ")").toList());
  }

  @Override
  public String toString() {
    return names() + (defaultName == null ? "" : "; default " + defaultName);
  }
}
