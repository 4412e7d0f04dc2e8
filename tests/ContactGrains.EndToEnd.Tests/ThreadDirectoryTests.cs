using ContactGrains.Silo.Channels;

namespace ContactGrains.EndToEnd.Tests;

public sealed class ThreadDirectoryTests
{
    [Fact]
    public void A_remembered_thread_is_found_and_an_unknown_one_is_not()
    {
        var directory = new ThreadDirectory();
        directory.Remember("webchat:t-1", "c-1");

        Assert.Equal("c-1", directory.Find("webchat:t-1"));
        Assert.Null(directory.Find("webchat:t-2"));
        Assert.Null(directory.Find("sms:t-1"));
    }

    [Fact]
    public void Forgetting_a_conversation_the_thread_has_moved_on_from_keeps_the_newer_one()
    {
        var directory = new ThreadDirectory();
        directory.Remember("webchat:t-1", "c-1");
        directory.Remember("webchat:t-1", "c-2"); // another request already learnt the next conversation

        directory.Forget("webchat:t-1", "c-1");
        Assert.Equal("c-2", directory.Find("webchat:t-1"));

        directory.Forget("webchat:t-1", "c-2");
        Assert.Null(directory.Find("webchat:t-1"));
    }

    [Theory]
    [InlineData(1, 5)]
    [InlineData(10, 25)]
    [InlineData(100, 1_000)]
    public void It_never_holds_more_than_its_capacity_and_always_holds_the_latest(int capacity, int threads)
    {
        var directory = new ThreadDirectory(capacity);
        for (var i = 0; i < threads; i++)
        {
            directory.Remember($"webchat:t-{i}", $"c-{i}");

            Assert.True(directory.Count <= capacity, $"{directory.Count} entries with capacity {capacity}");
            Assert.Equal($"c-{i}", directory.Find($"webchat:t-{i}"));
        }
    }

    [Fact]
    public void Updating_a_known_thread_at_capacity_forgets_nothing()
    {
        var directory = new ThreadDirectory(2);
        directory.Remember("webchat:t-1", "c-1");
        directory.Remember("webchat:t-2", "c-2");

        directory.Remember("webchat:t-1", "c-3");

        Assert.Equal("c-3", directory.Find("webchat:t-1"));
        Assert.Equal("c-2", directory.Find("webchat:t-2"));
    }

    [Fact]
    public void A_capacity_below_one_is_refused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new ThreadDirectory(0));
}
