using ContactGrains.Persistence.Storage;

namespace ContactGrains.Persistence.Tests;

/// <summary>The pooled buffer grain states are serialized into, and the order of a batch's rows.</summary>
public sealed class PooledPayloadTests
{
    [Theory]
    [InlineData(new[] { 1 })]
    [InlineData(new[] { 8_192 })]
    [InlineData(new[] { 8_191, 2 })]
    [InlineData(new[] { 5_000, 5_000, 5_000 })]
    [InlineData(new[] { 100, 70_000, 3 })]
    public void Whatever_is_written_in_pieces_reads_back_whole_and_in_order(int[] pieces)
    {
        using var payload = new PooledPayload();
        var expected = new List<byte>();
        var next = (byte)1;
        foreach (var length in pieces)
        {
            var span = payload.GetSpan(length);
            Assert.True(span.Length >= length);
            for (var i = 0; i < length; i++)
            {
                span[i] = next;
                expected.Add(next);
                next = (byte)(next % 251 + 1);
            }

            payload.Advance(length);
        }

        Assert.Equal(expected, payload.Written.ToArray());
    }

    [Fact]
    public void Advancing_past_the_space_handed_out_is_refused_and_a_disposed_buffer_cannot_be_written()
    {
        var payload = new PooledPayload();
        var free = payload.GetSpan(10).Length;
        Assert.Throws<ArgumentOutOfRangeException>(() => payload.Advance(free + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => payload.Advance(-1));

        payload.Dispose();
        Assert.Equal(0, payload.Written.Length);
        Assert.Throws<ObjectDisposedException>(() => payload.GetSpan(1));
        payload.Dispose(); // twice is harmless
    }

    [Theory]
    // Compared part by part: no choice of names can make two different rows look alike.
    [InlineData("conversation", "ab", "", "conversation", "a", "b", 1)]
    [InlineData("conversation", "a", "b", "conversation", "a", "b", 0)]
    [InlineData("conversation", "a", "", "customer", "a", "", -1)]
    [InlineData("\u0001reminder", "z", "x", "conversation", "a", "", -1)]
    [InlineData("\u0001reminder", "g", "b", "\u0001reminder", "g", "a", 1)]
    public void Rows_are_ordered_by_table_then_key_then_second_key(string table1, string first1, string second1, string table2, string first2, string second2, int sign)
    {
        var order = new RowKey(table1, first1, second1).CompareTo(new RowKey(table2, first2, second2));
        Assert.Equal(sign, Math.Sign(order));
        Assert.Equal(-sign, Math.Sign(new RowKey(table2, first2, second2).CompareTo(new RowKey(table1, first1, second1))));
    }
}
