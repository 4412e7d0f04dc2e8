using ContactGrains.Contracts;

namespace ContactGrains.Grains.Tests;

[Collection(ClusterCollection.Name)]
public sealed class GrainReferencesTests(ClusterFixture fixture)
{
    [Fact]
    public void A_cached_reference_is_the_one_GetGrain_gives()
    {
        var grains = fixture.Cluster.Client;
        foreach (var key in new[] { "webchat:thread-1", "sms:+33 6 12 34 56 78", "clé:é/ü" })
        {
            AssertSame(grains.GetGrain<IConversationGrain>(key), grains.Get<IConversationGrain>(key));
            AssertSame(grains.GetGrain<IConversationThreadGrain>(key), grains.Get<IConversationThreadGrain>(key));
            AssertSame(grains.GetGrain<IAgentGrain>(key), grains.Get<IAgentGrain>(key));
            AssertSame(grains.GetGrain<IQueueGrain>(key), grains.Get<IQueueGrain>(key));
        }
    }

    [Fact]
    public async Task A_cached_reference_reaches_its_grain()
    {
        var snapshot = await fixture.Cluster.Client.Get<IConversationGrain>($"never-started-{Guid.NewGuid():N}").GetSnapshot();

        Assert.Equal(ConversationStatus.None, snapshot.Status);
    }

    private static void AssertSame<T>(T expected, T actual)
        where T : IGrainWithStringKey
    {
        var expectedReference = (GrainReference)(object)expected;
        var actualReference = (GrainReference)(object)actual;
        Assert.Equal(expectedReference.GrainId, actualReference.GrainId);
        Assert.Equal(expectedReference.InterfaceType, actualReference.InterfaceType);
        Assert.Equal(expected!.GetType(), actual!.GetType());
        Assert.Equal(expected, actual);
    }
}
