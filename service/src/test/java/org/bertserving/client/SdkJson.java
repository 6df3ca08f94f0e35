package org.bertserving.client;

import com.fasterxml.jackson.databind.ObjectMapper;

/** The SDK's own mapper, for tests in other packages that must read and write as the SDK does. */
public final class SdkJson {
  private SdkJson() {}

  public static ObjectMapper mapper() {
    return HttpBertClient.JSON;
  }
}
