package org.bertserving.client;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.zip.GZIPInputStream;
import org.bertserving.client.http.ErrorAnswer;

/**
 * One call's way through the client's addresses and retries, for the blocking and the asynchronous
 * path alike: each asks {@link #next()} where to send, and {@link #outcome} what comes of the
 * answer.
 *
 * <p>A refused, reset or broken connection, a connect timeout, or a 503 sends the call to the next
 * address at once (encoding is idempotent: a request whose server died mid-flight is sent again
 * elsewhere). Once every address has failed, or at a 429 (the cluster is full, whichever frontend
 * is asked), the call waits as {@code Retry-After} says (or a doubling backoff) and goes round
 * again, up to {@code retries} times. A request timeout, a 4xx or another 5xx ends the call; after
 * a request timeout the address is passed over by the next calls, as after a refused connection.
 */
final class Attempts {
  private static final System.Logger LOG = System.getLogger(BertClient.class.getName());

  private static final ErrorAnswer NO_ERROR_BODY = new ErrorAnswer(null, 0, null, null);

  /** What to do after an exchange. */
  sealed interface Step permits Done, Again {}

  /** The 200 answer: its body, gunzipped, and its {@code Content-Type}. */
  record Done(byte[] body, String contentType) implements Step {}

  /** Send again after {@code millis} (0: at once, to the next address). */
  record Again(long millis) implements Step {}

  private final Addresses addresses;
  private final Function<Addresses.Address, URI> route;
  private final int retries;
  private final Duration timeout;
  private final int start;
  private final Set<Integer> tried = new HashSet<>();

  /** The last failure at each address, in the order they were tried. */
  private final Map<URI, String> causes = new LinkedHashMap<>();

  /**
   * The longest wait before a round, whatever {@code Retry-After} says or the backoff has doubled
   * to: a proxy's {@code Retry-After: 86400} (or a number that overflows) would otherwise hold a
   * blocking call for a day, far past its timeout.
   */
  static final long MAX_WAIT_MILLIS = 60_000;

  private Duration backoff;
  private int round;
  private int current = -1;
  private long wait;
  private Throwable lastUnreachable;
  private BertServerException lastAnswer;
  private boolean lastWasAnswer;

  /**
   * Set when the caller cancelled the call: the exchange it aborted failed through no fault of the
   * server, and nothing is sent again.
   */
  private volatile boolean cancelled;

  Attempts(
      Addresses addresses,
      Function<Addresses.Address, URI> route,
      int retries,
      Duration timeout,
      Duration backoff) {
    this.addresses = addresses;
    this.route = route;
    this.retries = retries;
    this.timeout = timeout;
    this.backoff = backoff;
    this.start = addresses.start();
  }

  /** Where to send now. */
  URI next() {
    if (cancelled) {
      throw new CancellationException("cancelled by the caller");
    }
    current = addresses.pick(start, tried);
    tried.add(current);
    return route.apply(addresses.get(current));
  }

  /**
   * @param failure why there is no {@code reply}
   * @throws BertClientException (or a subclass) when the call ends without an answer
   */
  Step outcome(Transport.Reply reply, Throwable failure) {
    if (cancelled) {
      throw new CancellationException("cancelled by the caller");
    }
    URI uri = route.apply(addresses.get(current));
    if (failure != null) {
      Throwable cause =
          failure instanceof CompletionException && failure.getCause() != null
              ? failure.getCause()
              : failure;
      if (cause instanceof HttpTimeoutException
          && !(cause instanceof HttpConnectTimeoutException)) {
        // a server that stopped answering on a kept-alive connection: the next calls go elsewhere
        // first, or each would wait its whole timeout there
        addresses.failed(current);
        throw new BertTimeoutException(
            "no answer from " + uri + " within " + timeout.toMillis() + " ms", cause);
      }
      if (!(cause instanceof IOException)) {
        throw new BertClientException("cannot reach " + uri + ": " + cause, cause);
      }
      addresses.failed(current);
      lastUnreachable = cause;
      lastWasAnswer = false;
      return failedOver(uri, cause.toString(), backoff.toMillis());
    }
    int status = reply.status();
    byte[] bytes;
    try {
      bytes = gunzipped(reply);
    } catch (IOException e) {
      if (status == 200) {
        throw new BertClientException("unreadable answer from " + uri + ": " + e, e);
      }
      bytes =
          ("unreadable answer: " + e.getMessage())
              .getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }
    if (status == 200) {
      addresses.answered(current);
      return new Done(bytes, reply.contentType());
    }
    ErrorAnswer body = errorBody(bytes);
    String type = body.type() != null ? body.type() : "error";
    String description =
        body.description() != null
            ? body.description()
            : new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
    if (status != 429 && status != 503) {
      throw Outcomes.failure(status, type, description);
    }
    lastAnswer = (BertServerException) Outcomes.failure(status, type, description);
    lastWasAnswer = true;
    long retryAfter = retryAfterMillis(reply.retryAfter());
    if (status == 503) { // this frontend has no worker (yet): another may
      addresses.failed(current);
      return failedOver(uri, lastAnswer.getMessage(), retryAfter);
    }
    causes.put(uri, lastAnswer.getMessage());
    return nextRound(Math.max(wait, retryAfter));
  }

  /** Ends the call: the caller gave up on it. */
  void cancel() {
    cancelled = true;
  }

  private Step failedOver(URI uri, String cause, long waitMillis) {
    causes.put(uri, cause);
    wait = Math.max(wait, waitMillis);
    if (addresses.pick(start, tried) >= 0) {
      LOG.log(System.Logger.Level.DEBUG, "{0}: {1}; trying the next address", uri, cause);
      return new Again(0);
    }
    return nextRound(wait);
  }

  private Step nextRound(long waitMillis) {
    if (round >= retries) {
      throw exhausted();
    }
    LOG.log(System.Logger.Level.DEBUG, "{0}; retrying in {1} ms", causes, waitMillis);
    round++;
    tried.clear();
    wait = 0;
    if (backoff.toMillis() < MAX_WAIT_MILLIS) {
      backoff = backoff.multipliedBy(2);
    }
    return new Again(Math.min(MAX_WAIT_MILLIS, waitMillis));
  }

  /** The error once no attempt is left: of the one address as it was, or naming each one. */
  private BertClientException exhausted() {
    if (causes.size() == 1) {
      return lastWasAnswer
          ? lastAnswer
          : new BertClientException(
              "cannot reach " + causes.keySet().iterator().next() + ": " + lastUnreachable,
              lastUnreachable);
    }
    String each =
        causes.entrySet().stream()
            .map(e -> e.getKey() + ": " + e.getValue())
            .collect(Collectors.joining("; "));
    if (lastUnreachable == null) {
      return new BertOverloadedException(
          lastAnswer.status(), lastAnswer.type(), "every server refused the request: " + each);
    }
    return new BertClientException(
        "no server answered the request (" + causes.size() + " addresses): " + each,
        lastUnreachable);
  }

  /**
   * The server's {@code Retry-After} in seconds, else the backoff; at most {@link
   * #MAX_WAIT_MILLIS}.
   */
  private long retryAfterMillis(String retryAfter) {
    if (retryAfter == null) {
      return backoff.toMillis();
    }
    try {
      return waitMillis(Long.parseLong(retryAfter.trim()));
    } catch (NumberFormatException e) { // an HTTP date: not what this server sends
      return backoff.toMillis();
    }
  }

  /**
   * A wait of {@code seconds} as a server asked, in milliseconds: none below 0, at most {@link
   * #MAX_WAIT_MILLIS}.
   */
  static long waitMillis(long seconds) {
    return Math.max(0, Math.min(MAX_WAIT_MILLIS / 1000, seconds)) * 1000;
  }

  private static byte[] gunzipped(Transport.Reply reply) throws IOException {
    return "gzip".equalsIgnoreCase(reply.contentEncoding())
        ? new GZIPInputStream(new ByteArrayInputStream(reply.body())).readAllBytes()
        : reply.body();
  }

  /**
   * An error's body: its type and description, when it has them, in the shape of the route's
   * family: bert-as-service's {@code {"type", "description"}}, OpenAI's {@code {"error":
   * {"message", "type", "code"}}} (of {@code /v1/rerank}; its {@code code} is the stable name when
   * there is one) or text-embeddings-inference's {@code {"error", "error_type"}} (of {@code
   * /predict}).
   */
  private static ErrorAnswer errorBody(byte[] bytes) {
    JsonNode body;
    try {
      body = bytes.length == 0 ? null : HttpBertClient.JSON.readTree(bytes);
    } catch (IOException e) {
      return NO_ERROR_BODY; // not JSON: the text is the description
    }
    if (body == null || !body.isObject()) {
      return NO_ERROR_BODY;
    }
    JsonNode error = body.path("error");
    if (error.isObject()) {
      String code = text(error.path("code"));
      return answer(code != null ? code : text(error.path("type")), text(error.path("message")));
    }
    if (error.isTextual()) {
      return answer(text(body.path("error_type")), error.asText());
    }
    return answer(text(body.path("type")), text(body.path("description")));
  }

  private static ErrorAnswer answer(String type, String description) {
    return new ErrorAnswer(null, 0, type, description);
  }

  /** A field's text; null when it is missing, null or not a string. */
  private static String text(JsonNode field) {
    return field.isTextual() ? field.asText() : null;
  }
}
