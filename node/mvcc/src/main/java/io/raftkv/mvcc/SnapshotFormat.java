package io.raftkv.mvcc;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * The snapshot stream: the magic {@code "RKVSNAP1"}, then frames {@code type(1) length(4)
 * payload crc32c(4)} where the CRC covers type, length and payload. Data frames ({@code 'D'},
 * at most {@link #CHUNK_BYTES} of payload) hold entries {@code family(1) keyLength(4) key
 * valueLength(4) value}; the last frame ({@code 'E'}) holds the entry count, so truncation is
 * detected. A reader fails with the byte offset of the first bad frame.
 */
final class SnapshotFormat {

  static final byte[] MAGIC = Codec.ascii("RKVSNAP1");
  static final int CHUNK_BYTES = 1 << 20;
  private static final byte DATA = 'D';
  private static final byte END = 'E';

  private SnapshotFormat() {}

  /** Writes entries in chunks. Not thread-safe. */
  static final class Writer {
    private final DataOutputStream out;
    private final ByteArrayOutputStream chunk = new ByteArrayOutputStream();
    private final DataOutputStream chunkData = new DataOutputStream(chunk);
    private long entries;
    private long bytes;

    Writer(OutputStream out) throws IOException {
      this.out = new DataOutputStream(out);
      this.out.write(MAGIC);
      bytes = MAGIC.length;
    }

    void entry(int family, byte[] key, byte[] value) throws IOException {
      chunkData.writeByte(family);
      chunkData.writeInt(key.length);
      chunkData.write(key);
      chunkData.writeInt(value.length);
      chunkData.write(value);
      entries++;
      if (chunk.size() >= CHUNK_BYTES) {
        flushChunk();
      }
    }

    private void flushChunk() throws IOException {
      if (chunk.size() > 0) {
        frame(DATA, chunk.toByteArray());
        chunk.reset();
      }
    }

    private void frame(byte type, byte[] payload) throws IOException {
      CRC32C crc = new CRC32C();
      crc.update(type);
      crc.update(Codec.longBytes(payload.length), 4, 4);
      crc.update(payload);
      out.writeByte(type);
      out.writeInt(payload.length);
      out.write(payload);
      out.writeInt((int) crc.getValue());
      bytes += 1 + 4 + payload.length + 4;
    }

    /** Writes the last chunk and the end frame; returns the bytes written in all. */
    long finish() throws IOException {
      flushChunk();
      frame(END, Codec.longBytes(entries));
      out.flush();
      return bytes;
    }
  }

  /** Receives restored entries. */
  interface EntrySink {
    void entry(int family, byte[] key, byte[] value) throws IOException;
  }

  /** Reads a whole stream into {@code sink}, verifying every frame; returns the entry count. */
  static long read(InputStream in, EntrySink sink) throws IOException {
    DataInputStream data = new DataInputStream(in);
    byte[] magic = new byte[MAGIC.length];
    try {
      data.readFully(magic);
    } catch (EOFException e) {
      throw new IOException("snapshot truncated at offset 0: no header", e);
    }
    if (!Arrays.equals(magic, MAGIC)) {
      throw new IOException("snapshot corrupt at offset 0: bad magic");
    }
    long offset = MAGIC.length;
    long entries = 0;
    while (true) {
      byte type;
      int length;
      byte[] payload;
      int stored;
      try {
        type = data.readByte();
        length = data.readInt();
        if (length < 0 || length > 2 * CHUNK_BYTES) {
          throw new IOException("snapshot corrupt at offset " + offset + ": frame length "
              + length);
        }
        payload = new byte[length];
        data.readFully(payload);
        stored = data.readInt();
      } catch (EOFException e) {
        throw new IOException("snapshot truncated at offset " + offset, e);
      }
      CRC32C crc = new CRC32C();
      crc.update(type);
      crc.update(Codec.longBytes(length), 4, 4);
      crc.update(payload);
      if ((int) crc.getValue() != stored) {
        throw new IOException("snapshot corrupt at offset " + offset + ": CRC mismatch");
      }
      if (type == END) {
        long expected = Codec.getLong(payload, 0);
        if (expected != entries) {
          throw new IOException("snapshot corrupt at offset " + offset + ": " + entries
              + " entries read, " + expected + " written");
        }
        return entries;
      }
      if (type != DATA) {
        throw new IOException("snapshot corrupt at offset " + offset + ": frame type " + type);
      }
      DataInputStream chunk = new DataInputStream(new java.io.ByteArrayInputStream(payload));
      while (chunk.available() > 0) {
        int family = chunk.readUnsignedByte();
        byte[] key = new byte[chunk.readInt()];
        chunk.readFully(key);
        byte[] value = new byte[chunk.readInt()];
        chunk.readFully(value);
        sink.entry(family, key, value);
        entries++;
      }
      offset += 1 + 4 + length + 4;
    }
  }
}
