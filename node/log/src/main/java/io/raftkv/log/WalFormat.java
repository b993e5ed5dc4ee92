package io.raftkv.log;

import io.raftkv.raft.ConfState;
import io.raftkv.raft.Entry;
import io.raftkv.raft.EntryType;
import io.raftkv.raft.HardState;
import io.raftkv.raft.Snapshot;
import io.raftkv.raft.SnapshotMetadata;
import java.nio.ByteBuffer;
import java.util.HashSet;
import java.util.Set;
import java.util.zip.CRC32C;

/**
 * The on-disk encoding of segment files. Everything is big-endian.
 *
 * <pre>
 * record  := header(16) payload padding-to-8
 * header  := u32 payloadLength, u32 crc32c(payload), u8 type, 3 zero bytes, u32 headerCrc
 * headerCrc = crc32c(first 12 header bytes) ^ HEADER_CRC_MASK
 * </pre>
 *
 * A header of 16 zero bytes marks the end of the data (segments are zero-filled when created).
 * The header checksum lets the scanner test any 8-aligned offset for "is a record here" in O(1),
 * which is how a torn last write (nothing valid after it) is told apart from damage in the middle
 * of the log (valid records after it).
 *
 * <p>Record types: a segment header (first record of every segment; a complete checkpoint of the
 * log's state except the entries themselves) and a batch (one per {@code persist} or
 * {@code sync}: a sequence of operations). Entries inside a batch are sub-records with their own
 * CRC so that a single entry can be read back and verified without its batch.
 */
final class WalFormat {
    static final int HEADER_BYTES = 16;
    static final int HEADER_CRC_MASK = 0x52_4b_56_31; // "RKV1": an all-zero header is never valid
    static final int MAX_PAYLOAD_BYTES = Integer.MAX_VALUE - 64;

    static final byte RECORD_SEGMENT_HEADER = 1;
    static final byte RECORD_BATCH = 2;

    static final byte OP_HARD_STATE = 1;
    static final byte OP_ENTRIES = 2;
    static final byte OP_INSTALL_SNAPSHOT = 3;
    static final byte OP_CREATE_SNAPSHOT = 4;
    static final byte OP_COMPACT = 5;

    /** Entry sub-record header: u32 length (of what follows the crc), u32 crc32c. */
    static final int ENTRY_HEADER_BYTES = 8;
    /** term(8) + index(8) + type(1) before the data. */
    static final int ENTRY_FIXED_BYTES = 17;

    private WalFormat() {
    }

    static int align8(long n) {
        return (int) ((n + 7) & ~7L);
    }

    static int crc32c(ByteBuffer buf, int from, int length) {
        CRC32C crc = new CRC32C();
        ByteBuffer view = buf.duplicate();
        view.limit(from + length).position(from);
        crc.update(view);
        return (int) crc.getValue();
    }

    static int headerCrc(ByteBuffer buf, int headerStart) {
        return crc32c(buf, headerStart, 12) ^ HEADER_CRC_MASK;
    }

    /**
     * Length in bytes (header, payload and padding) of a valid record starting at {@code pos},
     * or -1 if there is no intact record there.
     */
    static int validRecordLength(ByteBuffer buf, int pos, int limit) {
        if (pos < 0 || pos + HEADER_BYTES > limit) {
            return -1;
        }
        if (buf.getInt(pos + 12) != headerCrc(buf, pos)) {
            return -1;
        }
        long payloadLength = Integer.toUnsignedLong(buf.getInt(pos));
        if (payloadLength == 0 || pos + HEADER_BYTES + payloadLength > limit) {
            return -1;
        }
        byte type = buf.get(pos + 8);
        if (type != RECORD_SEGMENT_HEADER && type != RECORD_BATCH) {
            return -1;
        }
        if (crc32c(buf, pos + HEADER_BYTES, (int) payloadLength) != buf.getInt(pos + 4)) {
            return -1;
        }
        return align8(HEADER_BYTES + payloadLength);
    }

    /** True if the 16 bytes at {@code pos} are all zero (the end-of-data marker). */
    static boolean isZeroHeader(ByteBuffer buf, int pos) {
        return buf.getLong(pos) == 0 && buf.getLong(pos + 8) == 0;
    }

    /** A growable direct buffer that frames records as it encodes them. */
    static final class Encoder {
        private final CRC32C crc = new CRC32C();
        private ByteBuffer buf;
        private ByteBuffer view;
        private int recordStart = -1;

        Encoder(int initialCapacity) {
            buf = ByteBuffer.allocateDirect(initialCapacity);
            view = buf.duplicate();
        }

        /** CRC32C of bytes [from, from+length) of the buffer, without allocating. */
        private int crc(int from, int length) {
            crc.reset();
            view.limit(from + length);
            view.position(from);
            crc.update(view);
            return (int) crc.getValue();
        }

        void clear() {
            buf.clear();
            recordStart = -1;
        }

        int position() {
            return buf.position();
        }

        /** The encoded bytes, ready to write. */
        ByteBuffer flip() {
            ByteBuffer out = buf.duplicate();
            out.flip();
            return out;
        }

        private void ensure(int more) {
            if (buf.remaining() >= more) {
                return;
            }
            long needed = (long) buf.position() + more;
            int cap = buf.capacity();
            while (cap < needed) {
                cap = (int) Math.min(MAX_PAYLOAD_BYTES, (long) cap * 2);
                if (cap < needed && cap == MAX_PAYLOAD_BYTES) {
                    throw new IllegalArgumentException("batch too large: " + needed + " bytes");
                }
            }
            ByteBuffer bigger = ByteBuffer.allocateDirect(cap);
            buf.flip();
            bigger.put(buf);
            buf = bigger;
            view = buf.duplicate();
        }

        void beginRecord(byte type) {
            ensure(HEADER_BYTES);
            recordStart = buf.position();
            buf.putInt(0).putInt(0).put(type).put((byte) 0).putShort((short) 0).putInt(0);
        }

        void endRecord() {
            int payloadStart = recordStart + HEADER_BYTES;
            int payloadLength = buf.position() - payloadStart;
            buf.putInt(recordStart, payloadLength);
            buf.putInt(recordStart + 4, crc(payloadStart, payloadLength));
            buf.putInt(recordStart + 12, crc(recordStart, 12) ^ HEADER_CRC_MASK);
            int pad = align8(buf.position()) - buf.position();
            ensure(pad);
            for (int i = 0; i < pad; i++) {
                buf.put((byte) 0);
            }
            recordStart = -1;
        }

        void putByte(byte b) {
            ensure(1);
            buf.put(b);
        }

        void putInt(int v) {
            ensure(4);
            buf.putInt(v);
        }

        void putLong(long v) {
            ensure(8);
            buf.putLong(v);
        }

        void putBytes(byte[] b) {
            ensure(4 + b.length);
            buf.putInt(b.length);
            buf.put(b);
        }

        void putHardState(HardState hs) {
            putLong(hs.term());
            putLong(hs.vote());
            putLong(hs.commit());
        }

        private void putSet(Set<Long> set) {
            putInt(set.size());
            for (long v : set) {
                putLong(v);
            }
        }

        void putSnapshot(Snapshot s) {
            SnapshotMetadata m = s.metadata();
            putLong(m.index());
            putLong(m.term());
            ConfState cs = m.confState();
            putSet(cs.voters());
            putSet(cs.learners());
            putSet(cs.votersOutgoing());
            putSet(cs.learnersNext());
            putByte(cs.autoLeave() ? (byte) 1 : 0);
            putBytes(s.data());
        }

        /**
         * Appends one entry sub-record and returns its offset within this encoder's buffer.
         */
        int putEntry(Entry e) {
            byte[] data = e.data();
            int bodyLength = ENTRY_FIXED_BYTES + data.length;
            ensure(ENTRY_HEADER_BYTES + bodyLength);
            int start = buf.position();
            buf.putInt(bodyLength).putInt(0);
            buf.putLong(e.term()).putLong(e.index()).put(e.type() == EntryType.CONF_CHANGE ? (byte) 1 : 0).put(data);
            buf.putInt(start + 4, crc(start + ENTRY_HEADER_BYTES, bodyLength));
            return start;
        }
    }

    static HardState getHardState(ByteBuffer b) {
        return new HardState(b.getLong(), b.getLong(), b.getLong());
    }

    private static Set<Long> getSet(ByteBuffer b) {
        int n = b.getInt();
        if (n < 0 || n > b.remaining() / 8) {
            throw new IllegalArgumentException("bad set size " + n);
        }
        Set<Long> out = new HashSet<>();
        for (int i = 0; i < n; i++) {
            out.add(b.getLong());
        }
        return out;
    }

    static byte[] getBytes(ByteBuffer b) {
        int n = b.getInt();
        if (n < 0 || n > b.remaining()) {
            throw new IllegalArgumentException("bad byte array length " + n);
        }
        byte[] out = new byte[n];
        b.get(out);
        return out;
    }

    static Snapshot getSnapshot(ByteBuffer b) {
        long index = b.getLong();
        long term = b.getLong();
        ConfState cs = new ConfState(getSet(b), getSet(b), getSet(b), getSet(b), b.get() != 0);
        byte[] data = getBytes(b);
        return new Snapshot(new SnapshotMetadata(index, term, cs), data);
    }

    /**
     * Decodes the entry sub-record at the buffer's position and advances past it, or returns
     * null if its checksum does not match.
     */
    static Entry getEntry(ByteBuffer b) {
        int start = b.position();
        int bodyLength = b.getInt();
        int crc = b.getInt();
        if (bodyLength < ENTRY_FIXED_BYTES || bodyLength > b.remaining()) {
            return null;
        }
        if (crc32c(b, start + ENTRY_HEADER_BYTES, bodyLength) != crc) {
            return null;
        }
        long term = b.getLong();
        long index = b.getLong();
        EntryType type = b.get() == 1 ? EntryType.CONF_CHANGE : EntryType.NORMAL;
        byte[] data = new byte[bodyLength - ENTRY_FIXED_BYTES];
        b.get(data);
        return new Entry(term, index, type, data);
    }
}
