package io.raftkv.mvcc;

import java.util.Objects;
import java.util.Optional;

/**
 * The result of a {@link PutRequest}.
 *
 * @param revision header revision: the revision of this put (of the enclosing transaction)
 * @param prevKv the previous key-value when asked for and the key existed
 */
public record PutResponse(long revision, Optional<KeyValue> prevKv) implements ResponseOp {

  /** Validates non-null fields. */
  public PutResponse {
    Objects.requireNonNull(prevKv, "prevKv");
  }
}
