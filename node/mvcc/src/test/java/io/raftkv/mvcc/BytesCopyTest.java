package io.raftkv.mvcc;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** {@link Bytes#copyOf(ByteBuffer)}: one copy, independent of its source. */
class BytesCopyTest {

  @Test
  void copyOfTakesTheRemainingBytesOfAViewAndOwnsThem() {
    byte[] backing = "xxhello-worldyy".getBytes(StandardCharsets.UTF_8);
    ByteBuffer view = ByteBuffer.wrap(backing, 2, 11).slice().asReadOnlyBuffer();

    Bytes copy = Bytes.copyOf(view);
    backing[2] = 'H';

    assertThat(copy).isEqualTo(Bytes.of("hello-world"));
    assertThat(view.hasRemaining()).isFalse();
  }

  @Test
  void anEmptyBufferIsTheEmptyString() {
    assertThat(Bytes.copyOf(ByteBuffer.allocate(0))).isSameAs(Bytes.EMPTY);
  }
}
