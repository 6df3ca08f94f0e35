package org.bertserving.client;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** The header lines every request of a client carries, checked once when it is built. */
final class Headers {
  /** What the client says itself, or what would change how a request is framed. */
  private static final Set<String> OWN =
      Set.of(
          "host",
          "accept",
          "content-length",
          "content-type",
          "transfer-encoding",
          "connection",
          "expect",
          "upgrade",
          "accept-encoding");

  /** What the JDK's client refuses to send (it carries the asynchronous calls). */
  private static final Set<String> JDK_REFUSES = Set.of("date", "from", "via", "warning");

  private Headers() {}

  /**
   * The client's own, then the application's (an own User-Agent replaces the client's), then the
   * API key's.
   *
   * @throws IllegalArgumentException naming a header the client sets itself or HTTP cannot carry
   */
  static List<Map.Entry<String, String>> of(Map<String, String> application, String apiKey) {
    List<Map.Entry<String, String>> all = new ArrayList<>();
    all.add(Map.entry("Accept-Encoding", "gzip"));
    if (application.keySet().stream().noneMatch("User-Agent"::equalsIgnoreCase)) {
      all.add(Map.entry("User-Agent", "bert-serving-client"));
    }
    application.forEach((name, value) -> all.add(checked(name, value)));
    if (apiKey != null) {
      all.add(checked("Authorization", "Bearer " + apiKey));
    }
    return List.copyOf(all);
  }

  private static Map.Entry<String, String> checked(String name, String value) {
    if (name.isEmpty() || !name.chars().allMatch(Headers::tokenChar)) {
      throw new IllegalArgumentException("not a header name: " + name);
    }
    if (OWN.contains(name.toLowerCase(Locale.ROOT))) {
      throw new IllegalArgumentException("the client sets " + name + " itself");
    }
    if (JDK_REFUSES.contains(name.toLowerCase(Locale.ROOT))) {
      throw new IllegalArgumentException("the JDK's HTTP client refuses to send " + name);
    }
    if (value.chars().anyMatch(c -> c < 0x20 && c != '\t' || c == 0x7f || c > 0xff)) {
      throw new IllegalArgumentException("header " + name + " has a value HTTP cannot carry");
    }
    return Map.entry(name, value.strip());
  }

  private static boolean tokenChar(int c) {
    return c < 0x7f && (Character.isLetterOrDigit(c) || "!#$%&'*+-.^_`|~".indexOf(c) >= 0);
  }
}
