package smartchat.testmongo;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.backend.Missing;
import de.bwaldvogel.mongo.bson.Document;

/**
 * Stands in for a non-unique (secondary) index, which mongo-java-server 1.47.0 ignores
 * ({@code EmptyIndex}): a hash from the value of the index's FIRST key to the positions of the
 * documents holding it, so that {@link IndexedMemoryCollection} can answer an equality on that
 * field (e.g. {@code {chat_id: 'c', seq: {$gt: 5}}} on messages) from those positions only.
 *
 * <p>It mirrors the library's equality exactly for a top-level field and a scalar query value: a
 * document matches {@code field: q} iff its value, or an element of its array value, equals q after
 * the library's {@code Utils.normalizeValue} (numbers compare as doubles, except longs a double cannot
 * hold). Only such values are filed here; nested arrays, sub-documents and null can never equal a
 * scalar. An index whose first key is a dotted path files nothing and is never consulted.
 *
 * <p>Towards the library it behaves like {@code EmptyIndex}: sparse (so {@code remove} may return
 * null), never {@code canHandle}s a query, enforces nothing, counts 0. Removal by position comes
 * from {@link IndexedMemoryCollection#removeDocument(Integer)}, since {@code remove(Document)} is not
 * told the position. Callers hold the collection's lock; the methods are synchronized regardless.
 */
final class EqualityLookupIndex extends Index<Integer> {

    private final String field;
    private final Map<Object, TreeSet<Integer>> positionsByValue = new HashMap<>();
    private final Map<Integer, Set<Object>> valuesByPosition = new HashMap<>();

    EqualityLookupIndex(String name, List<IndexKey> keys) {
        super(name, keys, true);
        String first = keys.isEmpty() ? null : keys.get(0).getKey();
        this.field = first != null && !first.contains(".") && !first.startsWith("$") ? first : null;
    }

    /** The top-level field this index answers equalities on, or null if none. */
    String field() {
        return field;
    }

    /** Positions, ascending, of every document whose {@link #field()} equals {@code queryValue}. */
    synchronized List<Integer> positionsFor(Object queryValue) {
        TreeSet<Integer> positions = positionsByValue.get(normalize(queryValue));
        return positions == null ? List.of() : new ArrayList<>(positions);
    }

    /** How many documents {@link #positionsFor} would return. */
    synchronized int countFor(Object queryValue) {
        TreeSet<Integer> positions = positionsByValue.get(normalize(queryValue));
        return positions == null ? 0 : positions.size();
    }

    synchronized void removePosition(Integer position) {
        Set<Object> values = valuesByPosition.remove(position);
        if (values == null) {
            return;
        }
        for (Object value : values) {
            TreeSet<Integer> positions = positionsByValue.get(value);
            if (positions != null) {
                positions.remove(position);
                if (positions.isEmpty()) {
                    positionsByValue.remove(value);
                }
            }
        }
    }

    private synchronized void file(Document document, Integer position) {
        if (field == null) {
            return;
        }
        Set<Object> values = new LinkedHashSet<>();
        Object value = document.get(field);
        if (value instanceof Collection) {
            for (Object element : (Collection<?>) value) {
                addFiledValue(element, values);
            }
        } else {
            addFiledValue(value, values);
        }
        if (values.isEmpty()) {
            return;
        }
        valuesByPosition.put(position, values);
        for (Object filed : values) {
            positionsByValue.computeIfAbsent(filed, v -> new TreeSet<>()).add(position);
        }
    }

    private static void addFiledValue(Object value, Set<Object> out) {
        // A sub-document, array or null/missing never equals a scalar query value.
        if (value == null || value instanceof Missing || value instanceof Map || value instanceof Collection) {
            return;
        }
        out.add(normalize(value));
    }

    /** de.bwaldvogel.mongo.backend.Utils.normalizeValue, restricted to non-null scalars. */
    static Object normalize(Object value) {
        if (value instanceof Long) {
            long l = (Long) value;
            if (l != (long) (double) l) {
                return value;
            }
        }
        if (value instanceof Number) {
            double d = ((Number) value).doubleValue();
            if (d == -0.0) {
                d = 0.0;
            }
            return Double.valueOf(d);
        }
        return value;
    }

    @Override
    public Integer getPosition(Document document) {
        return null;
    }

    @Override
    public void checkAdd(Document document, MongoCollection<Integer> collection) {
        // enforces nothing
    }

    @Override
    public void add(Document document, Integer position, MongoCollection<Integer> collection) {
        file(document, position);
    }

    @Override
    public Integer remove(Document document) {
        // the position is dropped by IndexedMemoryCollection.removeDocument(Integer)
        return null;
    }

    @Override
    public boolean canHandle(Document query) {
        return false;
    }

    @Override
    public Iterable<Integer> getPositions(Document query) {
        throw new UnsupportedOperationException();
    }

    @Override
    public long getCount() {
        return 0;
    }

    @Override
    public long getDataSize() {
        return 0;
    }

    @Override
    public void checkUpdate(Document oldDocument, Document newDocument, MongoCollection<Integer> collection) {
        // enforces nothing
    }

    @Override
    public synchronized void updateInPlace(Document oldDocument, Document newDocument, Integer position,
                                           MongoCollection<Integer> collection) {
        removePosition(position);
        file(newDocument, position);
    }

    @Override
    public synchronized void drop() {
        positionsByValue.clear();
        valuesByPosition.clear();
    }
}
