package org.bertserving.cluster;

import akka.actor.typed.ActorRef;
import akka.actor.typed.javadsl.ActorContext;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;
import org.bertserving.client.protocol.EncodeFailure;
import org.bertserving.client.protocol.EncodeRequest;

/**
 * The models a frontend serves, plain Java on the frontend's thread: one {@link Dispatch} per model
 * name, created when the first worker of that model describes itself, so that a model's jobs only
 * ever go to (and are only ever sent again to) that model's workers. A worker the Receptionist
 * lists is asked who it is and gets no job before it has answered.
 *
 * <p>A request names its model, or goes to the default model: {@code
 * bert-serving.frontend.default-model} ({@code -default_model}) when set, else the first model
 * whose workers joined this frontend. A model this frontend has never seen a worker of is unknown
 * (404 naming the models served); a known model whose workers all left stays known, and its
 * requests get a 503 at once.
 */
final class Models {
  private final Map<String, Dispatch> byName = new LinkedHashMap<>();
  private final Map<ActorRef<Worker.Command>, Dispatch> byWorker = new HashMap<>();

  /** Each model as its first worker described it, and that worker's name. */
  private final Map<String, ServedModel> served = new LinkedHashMap<>();

  private final Map<String, String> firstWorker = new HashMap<>();

  /** Listed by the Receptionist, asked who they are, not answered yet: they get no job. */
  private final Set<ActorRef<Worker.Command>> undescribed = new HashSet<>();

  private final String defaultModel;
  private final Function<Frontend.WorkerDescription, Dispatch> create;
  private final ActorContext<Frontend.Command> context;
  private final Consumer<ServedModels> publish;

  /** What {@link #publish} last took. */
  private ServedModels published = ServedModels.NONE;

  /**
   * @param defaultModel the configured default model, or {@code null}: the first that joins
   * @param create a new model's dispatch, from the first description of one of its workers
   * @param publish takes the models known each time one joins (read by this node's HTTP routes)
   */
  Models(
      String defaultModel,
      Function<Frontend.WorkerDescription, Dispatch> create,
      ActorContext<Frontend.Command> context,
      Consumer<ServedModels> publish) {
    this.defaultModel = defaultModel == null || defaultModel.isBlank() ? null : defaultModel;
    this.create = create;
    this.context = context;
    this.publish = publish;
  }

  /** Every model known, in the order their first workers joined. */
  Iterable<Dispatch> all() {
    return byName.values();
  }

  /** The dispatch of a worker's model, or {@code null} for a worker gone or not yet described. */
  Dispatch of(ActorRef<Worker.Command> worker) {
    return byWorker.get(worker);
  }

  /** Where a request goes: its model's workers, or the refusal to answer it with. */
  record Route(Dispatch model, EncodeFailure refused) {}

  /** The model a request goes to, or why it cannot go to any. */
  Route route(EncodeRequest request) {
    String asked = request.model() == null || request.model().isBlank() ? null : request.model();
    String name = asked != null ? asked : defaultModel;
    if (name == null) {
      if (byName.isEmpty()) {
        return new Route(null, noWorker(request, "no worker is registered in the cluster yet"));
      }
      name = byName.keySet().iterator().next();
    }
    Dispatch model = byName.get(name);
    if (model == null) {
      if (byName.isEmpty() || (asked == null && name.equals(defaultModel))) {
        return new Route(
            null,
            noWorker(
                request,
                "no worker of model '"
                    + name
                    + "'"
                    + (asked == null ? " (the default model, -default_model)" : "")
                    + " has joined the cluster yet"));
      }
      return new Route(
          null,
          new EncodeFailure(
              request.id(), 404, "model_not_found", ServedModels.notServed(name, names()), 0));
    }
    String unavailable = model.unavailable();
    return new Route(model, unavailable == null ? null : noWorker(request, unavailable));
  }

  private static EncodeFailure noWorker(EncodeRequest request, String why) {
    return new EncodeFailure(request.id(), 503, "no_worker", why, 1);
  }

  /** The names of the models known (workers joined at least once), comma-separated. */
  String names() {
    return String.join(", ", byName.keySet());
  }

  /**
   * The Receptionist's listing: workers listed for the first time are asked who they are; each
   * model's workers no longer listed are gone (their jobs go to the model's other workers).
   */
  void listed(Set<ActorRef<Worker.Command>> listing) {
    undescribed.retainAll(listing);
    for (ActorRef<Worker.Command> worker : listing) {
      if (!byWorker.containsKey(worker) && undescribed.add(worker)) {
        worker.tell(new Worker.Describe(context.getSelf(), 0));
      }
    }
    for (Dispatch model : byName.values()) {
      Set<ActorRef<Worker.Command>> its = new HashSet<>();
      for (ActorRef<Worker.Command> worker : listing) {
        if (byWorker.get(worker) == model) {
          its.add(worker);
        }
      }
      model.listed(its);
    }
    byWorker.keySet().retainAll(listing);
    publishIfChanged();
  }

  /**
   * Publishes the models known to this node's routes when one joined, or when one's last worker
   * left or one came back.
   */
  private void publishIfChanged() {
    Set<String> live = new HashSet<>();
    byName.values().stream().filter(d -> d.size() > 0).forEach(d -> live.add(d.model()));
    if (served.size() != published.models().size() || !live.equals(published.live())) {
      published = new ServedModels(List.copyOf(served.values()), defaultName(), live);
      publish.accept(published);
    }
  }

  /**
   * What a worker says it is. A worker being described for the first time joins its model (a new
   * model's dispatch is created); returns that model's dispatch, or {@code null} for a worker no
   * longer listed.
   */
  Dispatch described(Frontend.WorkerDescription description) {
    Dispatch model = byWorker.get(description.worker());
    if (model != null || !undescribed.remove(description.worker())) {
      return model;
    }
    model = byName.computeIfAbsent(description.model(), name -> create.apply(description));
    ServedModel said = ServedModel.of(description);
    ServedModel first = served.putIfAbsent(description.model(), said);
    if (first == null) {
      firstWorker.put(description.model(), description.name());
    } else if (first.disagreement(said) != null) {
      // the routes serve the model as its first worker described it: say so, once per worker
      context
          .getLog()
          .warn(
              "worker {} describes model {} with {}, unlike its first worker {}: the first counts",
              description.name(),
              description.model(),
              first.disagreement(said),
              firstWorker.get(description.model()));
    }
    byWorker.put(description.worker(), model);
    model.joined(description);
    publishIfChanged();
    context
        .getLog()
        .info(
            "worker {} serves model {} ({} worker(s) of it)",
            description.name(),
            description.model(),
            model.size());
    return model;
  }

  /** Asks every worker who it is again, and those that have not answered yet. */
  void describeAll() {
    byName.values().forEach(Dispatch::describeAll);
    undescribed.forEach(w -> w.tell(new Worker.Describe(context.getSelf(), 0)));
  }

  /**
   * Sets each model's gauges (workers, queue, speed, backlog); returns each model's backlog
   * (tokens), what the other frontends admit that model's requests against.
   */
  Map<String, Double> gauges(Metrics metrics) {
    Map<String, Double> backlogs = new java.util.TreeMap<>();
    for (Dispatch model : byName.values()) {
      Admission a = model.admission();
      String name = model.model();
      backlogs.put(name, a.backlogTokens());
      metrics.workers.set(name, model.size());
      metrics.queuedRows.set(name, model.queuedRows());
      metrics.capacityTokensPerSecond.set(name, a.capacity());
      metrics.backlogSeconds.set(name, a.backlogSeconds());
      metrics.clusterBacklogSeconds.set(name, a.clusterBacklogSeconds());
    }
    return backlogs;
  }

  /** Tokens admitted by this frontend and not computed yet, every model's together. */
  double backlogTokens() {
    return byName.values().stream().mapToDouble(d -> d.admission().backlogTokens()).sum();
  }

  /** Tokens the cluster may hold queued, every model's together. */
  double budgetTokens() {
    return byName.values().stream().mapToDouble(d -> d.admission().budgetTokens()).sum();
  }

  /** Workers registered in every model. */
  int workers() {
    return byName.values().stream().mapToInt(Dispatch::size).sum();
  }

  long queuedRows() {
    return byName.values().stream().mapToLong(Dispatch::queuedRows).sum();
  }

  Map<String, Integer> perNode() {
    Map<String, Integer> perNode = new java.util.TreeMap<>();
    byName.values().forEach(d -> d.perNode().forEach((n, c) -> perNode.merge(n, c, Integer::sum)));
    return perNode;
  }

  List<Map<String, Object>> status() {
    List<Map<String, Object>> status = new ArrayList<>();
    byName.values().forEach(d -> status.addAll(d.status()));
    return status;
  }

  /** Each model for {@code /status/server} (and {@code /v1/models}), see {@link StatusReport}. */
  List<Map<String, Object>> report() {
    String defaultName = defaultName();
    return byName.values().stream()
        .map(d -> StatusReport.model(d, served.get(d.model()), d.model().equals(defaultName)))
        .toList();
  }

  /** The default model's name as requests without one see it now, or {@code null}. */
  String defaultName() {
    return defaultModel != null
        ? defaultModel
        : byName.isEmpty() ? null : byName.keySet().iterator().next();
  }
}
