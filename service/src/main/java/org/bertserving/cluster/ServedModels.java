package org.bertserving.cluster;

import java.util.List;
import java.util.Set;
import org.bertserving.engine.ModelKind;

/**
 * The models a frontend knows, as their workers described them, in the order their first workers
 * joined, and the default model: an immutable snapshot the frontend publishes ({@link
 * Metrics#served}) each time a model joins, and each time a model's last worker leaves or one comes
 * back, read by the HTTP routes of its node without asking the actor. A route that names no model
 * picks one here by the kind it needs.
 *
 * @param models every model known (workers joined at least once)
 * @param defaultName the model of requests that name none, or {@code null} (none known yet)
 * @param live the names of the models with at least one worker now
 */
public record ServedModels(List<ServedModel> models, String defaultName, Set<String> live) {
  public static final ServedModels NONE = new ServedModels(List.of(), null, Set.of());

  public ServedModels {
    models = List.copyOf(models);
    live = Set.copyOf(live);
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
   * The model a route that names none goes to: of the first of {@code kinds} the cluster serves
   * now, the default model if it is of that kind, else the first of that kind to join; when no
   * model of those kinds has a worker now, the same choice among those known (whose requests then
   * get a 503); {@code null} when none is of any of them. So a reranker retired or replaced does
   * not take the scoring routes with it while another reranker serves.
   */
  public ServedModel ofKind(ModelKind... kinds) {
    ServedModel serving = ofKind(kinds, true);
    return serving != null ? serving : ofKind(kinds, false);
  }

  private ServedModel ofKind(ModelKind[] kinds, boolean liveOnly) {
    ServedModel fallback = defaultModel();
    for (ModelKind kind : kinds) {
      if (fallback != null
          && fallback.kind() == kind
          && (!liveOnly || live.contains(fallback.name()))) {
        return fallback;
      }
      for (ServedModel m : models) {
        if (m.kind() == kind && (!liveOnly || live.contains(m.name()))) {
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
