package io.raftkv.log;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the records of one segment file and classifies what follows the last valid record.
 *
 * <ul>
 *   <li>Only zeros: a clean end (the rest of the preallocated segment).</li>
 *   <li>A damaged region with a valid record somewhere after it: corruption in the middle of the
 *       log, never a torn write, because every persist appends exactly one record and waits for
 *       it to be durable before the next one is written.</li>
 *   <li>A damaged region with nothing valid after it, in the newest segment: the torn last write
 *       of a crash. That write was never acknowledged (persist had not returned), so it is safe
 *       to drop.</li>
 *   <li>Any damage in an older (sealed) segment: corruption. A segment is sealed only by a later
 *       persist, after its own last write was made durable.</li>
 * </ul>
 */
final class SegmentScanner {

    /** One valid record: its type, byte offset in the file, and its payload (a view). */
    record Record(byte type, int offset, ByteBuffer payload) {
    }

    /**
     * The records of a segment. {@code end} is the offset after the last valid record;
     * {@code dirtyEnd > end} only for a torn tail: bytes {@code [end, dirtyEnd)} hold the
     * remains of the torn write and must be zeroed before appending.
     */
    record Result(List<Record> records, int end, int dirtyEnd) {
        boolean torn() {
            return dirtyEnd > end;
        }
    }

    private SegmentScanner() {
    }

    static Result scan(Path file, ByteBuffer content, boolean newest) throws LogCorruptionException {
        int limit = content.limit();
        List<Record> records = new ArrayList<>();
        int pos = 0;
        while (pos + WalFormat.HEADER_BYTES <= limit && !WalFormat.isZeroHeader(content, pos)) {
            int length = WalFormat.validRecordLength(content, pos, limit);
            if (length < 0) {
                break;
            }
            int payloadLength = content.getInt(pos);
            ByteBuffer payload = content.duplicate();
            payload.limit(pos + WalFormat.HEADER_BYTES + payloadLength).position(pos + WalFormat.HEADER_BYTES);
            records.add(new Record(content.get(pos + 8), pos, payload.slice()));
            pos = Math.min(limit, pos + length);
        }
        int end = pos;
        int lastNonZero = lastNonZeroByte(content, end, limit);
        if (lastNonZero < 0) {
            return new Result(records, end, end);
        }
        int validAfter = findValidRecord(content, end + 8, limit);
        if (validAfter >= 0) {
            throw new LogCorruptionException(file, end,
                    "damaged record followed by a valid record at offset " + validAfter);
        }
        if (!newest) {
            throw new LogCorruptionException(file, end, "damaged record in a sealed segment");
        }
        return new Result(records, end, lastNonZero + 1);
    }

    private static int lastNonZeroByte(ByteBuffer b, int from, int limit) {
        int i = limit;
        while (i - 8 >= from && b.getLong(i - 8) == 0) {
            i -= 8;
        }
        while (i > from) {
            if (b.get(i - 1) != 0) {
                return i - 1;
            }
            i--;
        }
        return -1;
    }

    private static int findValidRecord(ByteBuffer b, int from, int limit) {
        for (int p = WalFormat.align8(from); p + WalFormat.HEADER_BYTES <= limit; p += 8) {
            if (!WalFormat.isZeroHeader(b, p) && WalFormat.validRecordLength(b, p, limit) > 0) {
                return p;
            }
        }
        return -1;
    }
}
