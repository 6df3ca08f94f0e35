package org.bertserving.cluster;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.SupervisorStrategy;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.AskPattern;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.receptionist.Receptionist;
import akka.actor.typed.receptionist.ServiceKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;
import org.bertserving.client.protocol.WireMessage;
import org.bertserving.engine.CallOptions;
import org.bertserving.engine.InvalidInputException;
import org.bertserving.engine.TokenCodec;

/**
 * The actor that answers {@code /tokenize} and {@code /decode} with a model's {@link TokenCodec},
 * one for each model a worker node holds. A frontend-only node has no model files, not even the
 * vocabulary, so it asks one of the model's token services through the Receptionist ({@link #key};
 * the keys keep their wire names, {@code bert-tokenizers}), preferring its own node's: the
 * vocabulary stays with the model, and a frontend never needs the model's folder.
 */
public final class TokenService extends AbstractBehavior<TokenService.Command> {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(TokenService.class);

  /** Every token service, of any model. */
  public static final ServiceKey<Command> KEY = ServiceKey.create(Command.class, "bert-tokenizers");

  /** The token services of the model served as {@code model}. */
  public static ServiceKey<Command> key(String model) {
    return ServiceKey.create(Command.class, "bert-tokenizers:" + model);
  }

  public interface Command {}

  /** The tokens of each text, with their ids and offsets. */
  public record Tokenize(
      List<String> texts, boolean addSpecialTokens, String promptName, ActorRef<Reply> replyTo)
      implements Command, WireMessage {}

  /** Each list of ids back to text. */
  public record Decode(List<List<Integer>> ids, boolean skipSpecialTokens, ActorRef<Reply> replyTo)
      implements Command, WireMessage {}

  /** What a token service answers. */
  public sealed interface Reply extends WireMessage permits Tokens, Texts, Refused {}

  public record Tokens(List<List<TokenCodec.Token>> tokens) implements Reply {}

  public record Texts(List<String> texts) implements Reply {}

  /** Not done: {@code status} as HTTP (400 bad input, 503 no token service reachable). */
  public record Refused(int status, String type, String message) implements Reply {}

  private final TokenCodec codec;

  private TokenService(ActorContext<Command> context, String model, TokenCodec codec) {
    super(context);
    this.codec = codec;
    context.getSystem().receptionist().tell(Receptionist.register(KEY, context.getSelf()));
    context.getSystem().receptionist().tell(Receptionist.register(key(model), context.getSelf()));
  }

  /**
   * The token service of the model served as {@code model}. Bad input is answered, never thrown;
   * anything else restarts it (nothing to lose).
   */
  public static Behavior<Command> create(String model, TokenCodec codec) {
    return Behaviors.supervise(Behaviors.<Command>setup(c -> new TokenService(c, model, codec)))
        .onFailure(SupervisorStrategy.restart());
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Tokenize.class, this::onTokenize)
        .onMessage(Decode.class, this::onDecode)
        .build();
  }

  private Behavior<Command> onTokenize(Tokenize t) {
    CallOptions options = new CallOptions(null, null, null, null, null, t.promptName());
    try {
      List<List<TokenCodec.Token>> out = new ArrayList<>(t.texts().size());
      for (String text : t.texts()) {
        out.add(codec.tokenize(text, t.addSpecialTokens(), options));
      }
      t.replyTo().tell(new Tokens(out));
    } catch (InvalidInputException e) {
      t.replyTo().tell(new Refused(400, "invalid_input", e.getMessage()));
    }
    return this;
  }

  private Behavior<Command> onDecode(Decode d) {
    List<String> out = new ArrayList<>(d.ids().size());
    for (List<Integer> ids : d.ids()) {
      out.add(codec.decode(ids, d.skipSpecialTokens()));
    }
    d.replyTo().tell(new Texts(out));
    return this;
  }

  /**
   * Asks a token service of {@code model} (this node's when it has one), or answers 503 when none
   * is reachable.
   *
   * @param model the served model's name; {@code null}: any model's (none described yet)
   * @param request the message, given where to reply
   */
  public static CompletionStage<Reply> ask(
      ActorSystem<?> system,
      String model,
      Function<ActorRef<Reply>, Command> request,
      Duration timeout) {
    ServiceKey<Command> wanted = model == null ? KEY : key(model);
    CompletionStage<Receptionist.Listing> listing =
        AskPattern.ask(
            system.receptionist(),
            (ActorRef<Receptionist.Listing> r) -> Receptionist.find(wanted, r),
            timeout,
            system.scheduler());
    java.util.function.Function<Throwable, Reply> unanswered =
        e ->
            new Refused(
                504,
                "timeout",
                "no answer from the tokenizer within " + timeout.toMillis() + " ms");
    return Stages.on(listing, system.executionContext(), e -> null)
        .thenCompose(
            l -> {
              if (l == null) {
                return CompletableFuture.completedFuture(unanswered.apply(null));
              }
              Set<ActorRef<Command>> all = l.getServiceInstances(wanted);
              if (all.isEmpty()) {
                return CompletableFuture.<Reply>completedFuture(
                    new Refused(
                        503,
                        "no_worker",
                        model == null
                            ? "no node with a model (a worker) is reachable to tokenize"
                            : "no node with the model '" + model + "' is reachable to tokenize"));
              }
              List<ActorRef<Command>> local =
                  all.stream().filter(ref -> ref.path().address().hasLocalScope()).toList();
              List<ActorRef<Command>> choice = local.isEmpty() ? List.copyOf(all) : local;
              ActorRef<Command> service =
                  choice.get(ThreadLocalRandom.current().nextInt(choice.size()));
              return Stages.on(
                  AskPattern.<Command, Reply>ask(
                      service, request::apply, timeout, system.scheduler()),
                  system.executionContext(),
                  unanswered);
            });
  }
}
