package org.bertserving.client.http;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.JsonNode;

/**
 * An error of bert-as-service's routes ({@code /encode}, {@code /status/server}, ...): {@code
 * {"id", "status", "type", "description"}}. The other route families answer in their own shapes
 * (OpenAI's under {@code /v1}, text-embeddings-inference's), where {@code type} and {@code
 * description} read as {@code null}.
 *
 * @param id the request's {@code id}, echoed by {@code /encode}; {@code null}: none was sent (a
 *     JSON {@code null} sent is echoed)
 * @param status as HTTP: 400 bad input, 413 too large, 429 overloaded, 503 no worker, 504 timeout
 * @param type a stable machine-readable name, e.g. {@code invalid_input}
 * @param description what went wrong, for people
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonPropertyOrder({"id", "status", "type", "description"})
public record ErrorAnswer(
    @JsonProperty("id") @JsonInclude(JsonInclude.Include.NON_NULL) JsonNode id,
    @JsonProperty("status") int status,
    @JsonProperty("type") String type,
    @JsonProperty("description") String description) {}
