package io.raftkv.mvcc;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * An immutable byte string, ordered like etcd orders keys (unsigned lexicographic, as Go's
 * {@code bytes.Compare}). Keys and values cross the API as {@code Bytes} so that records compare
 * by content.
 *
 * <p>Thread-safe: instances never change after construction; the wrapped array is copied on the
 * way in and out (except through the package-private accessors used by the store).
 */
public final class Bytes implements Comparable<Bytes> {

  /** The empty byte string. */
  public static final Bytes EMPTY = new Bytes(new byte[0]);

  /** The one-byte string {@code "\0"}, etcd's "all keys from key" range end. */
  public static final Bytes NUL = new Bytes(new byte[] {0});

  private final byte[] data;
  private int hash;

  private Bytes(byte[] data) {
    this.data = data;
  }

  /** Returns a byte string holding a copy of {@code data}. */
  public static Bytes of(byte[] data) {
    return data.length == 0 ? EMPTY : new Bytes(data.clone());
  }

  /** Returns a byte string holding a copy of the remaining bytes of {@code src}, which it consumes. */
  public static Bytes copyOf(ByteBuffer src) {
    if (!src.hasRemaining()) {
      return EMPTY;
    }
    byte[] data = new byte[src.remaining()];
    src.get(data);
    return new Bytes(data);
  }

  /** Returns the UTF-8 encoding of {@code s}. */
  public static Bytes of(String s) {
    return s.isEmpty() ? EMPTY : new Bytes(s.getBytes(StandardCharsets.UTF_8));
  }

  /** Wraps {@code data} without copying; the caller gives up ownership of the array. */
  static Bytes wrap(byte[] data) {
    return data.length == 0 ? EMPTY : new Bytes(data);
  }

  /** Returns a copy of the bytes. */
  public byte[] toByteArray() {
    return data.clone();
  }

  /** The internal array; callers must not modify it. */
  byte[] array() {
    return data;
  }

  /** Number of bytes. */
  public int size() {
    return data.length;
  }

  /** Whether this byte string has no bytes. */
  public boolean isEmpty() {
    return data.length == 0;
  }

  /** The byte at {@code index}. */
  public byte byteAt(int index) {
    return data[index];
  }

  /** Decodes the bytes as UTF-8 (invalid sequences are replaced). */
  public String toStringUtf8() {
    return new String(data, StandardCharsets.UTF_8);
  }

  /**
   * The smallest byte string greater than every string with this prefix, as etcd's
   * {@code GetPrefixRangeEnd}: the last byte below 0xff incremented, later bytes dropped; all
   * 0xff (or empty) gives {@link #NUL}, meaning "no upper bound".
   */
  public Bytes prefixEnd() {
    for (int i = data.length - 1; i >= 0; i--) {
      if (data[i] != (byte) 0xff) {
        byte[] end = Arrays.copyOf(data, i + 1);
        end[i]++;
        return new Bytes(end);
      }
    }
    return NUL;
  }

  @Override
  public int compareTo(Bytes other) {
    return Arrays.compareUnsigned(data, other.data);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Bytes b && Arrays.equals(data, b.data);
  }

  @Override
  public int hashCode() {
    int h = hash;
    if (h == 0 && data.length > 0) {
      h = Arrays.hashCode(data);
      hash = h;
    }
    return h;
  }

  /** Printable form: the UTF-8 text when every byte is printable ASCII, else hex. */
  @Override
  public String toString() {
    boolean printable = true;
    for (byte b : data) {
      if (b < 0x20 || b > 0x7e) {
        printable = false;
        break;
      }
    }
    if (printable) {
      return "\"" + toStringUtf8() + "\"";
    }
    StringBuilder sb = new StringBuilder("0x");
    for (byte b : data) {
      sb.append(String.format("%02x", b & 0xff));
    }
    return sb.toString();
  }
}
