namespace ContactGrains.Grains.Routing;

/// <summary>How conversations reach humans (configuration section "ContactGrains:Routing").</summary>
public sealed class RoutingOptions
{
    public const string SectionName = "ContactGrains:Routing";

    /// <summary>The bot intent that means "I want a human". Understood, it sends the conversation to a queue.</summary>
    public string HumanRequestIntent { get; set; } = "speak_to_agent";

    /// <summary>Queue skill when the bot understood nothing else before the request.</summary>
    public string DefaultSkill { get; set; } = "general";

    /// <summary>Concurrent conversations per channel for an agent whose profile does not say.</summary>
    public int DefaultCapacity { get; set; } = 3;

    /// <summary>How long an agent has to accept an offer before the next agent gets it.</summary>
    public TimeSpan OfferTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Offers an agent may let time out in a row before being set away.</summary>
    public int MissedOffersBeforeAway { get; set; } = 2;

    /// <summary>An agent who declined or missed a conversation is not offered it again for this long.</summary>
    public TimeSpan ReofferAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an agent whose stream dropped keeps its offers and conversations.</summary>
    public TimeSpan DisconnectGracePeriod { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often a desktop's stream tells the agent grain it is alive.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Silence after which a stream counts as dropped (its silo may have died without saying so).</summary>
    public TimeSpan HeartbeatTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often a connected agent re-announces itself to its queues (which forget silent agents after 3 times this).</summary>
    public TimeSpan AnnounceInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Bullseye ring 1: proficiency an agent needs in the queue's skill before the first widening.</summary>
    public int PreferredProficiency { get; set; } = 3;

    /// <summary>Bullseye ring 2: after this wait, any proficiency in the skill will do.</summary>
    public TimeSpan WidenToAnyProficiencyAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Bullseye ring 3: after this wait, agents of the other skills' queues in the same language will do.</summary>
    public TimeSpan WidenToOtherQueuesAfter { get; set; } = TimeSpan.FromSeconds(90);

    /// <summary>Service level target: the share of conversations answered within this wait (chat: 60 s).</summary>
    public TimeSpan ServiceLevelThreshold { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>A waiting customer who moved up in the queue hears their new place at most this often.</summary>
    public TimeSpan QueueUpdateInterval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Skills besides the knowledge base's that agents and transfers may name.</summary>
    public List<string> ExtraSkills { get; set; } = [];

    internal TimeSpan RosterExpiry => 3 * AnnounceInterval;

    /// <summary>Returns why the options cannot work, or null.</summary>
    public string? Validate()
    {
        if (DefaultCapacity is < 1 or > 100)
        {
            return $"Routing:DefaultCapacity must be between 1 and 100, not {DefaultCapacity}.";
        }

        if (MissedOffersBeforeAway < 1)
        {
            return $"Routing:MissedOffersBeforeAway must be at least 1, not {MissedOffersBeforeAway}.";
        }

        if (PreferredProficiency is < 1 or > 5)
        {
            return $"Routing:PreferredProficiency must be between 1 and 5, not {PreferredProficiency}.";
        }

        foreach (var (name, value) in new[]
        {
            (nameof(OfferTimeout), OfferTimeout), (nameof(DisconnectGracePeriod), DisconnectGracePeriod),
            (nameof(HeartbeatInterval), HeartbeatInterval), (nameof(HeartbeatTimeout), HeartbeatTimeout),
            (nameof(AnnounceInterval), AnnounceInterval), (nameof(ServiceLevelThreshold), ServiceLevelThreshold),
            (nameof(QueueUpdateInterval), QueueUpdateInterval),
        })
        {
            if (value <= TimeSpan.Zero)
            {
                return $"Routing:{name} must be positive, not {value}.";
            }
        }

        if (HeartbeatTimeout <= HeartbeatInterval)
        {
            return $"Routing:HeartbeatTimeout ({HeartbeatTimeout}) must be longer than Routing:HeartbeatInterval ({HeartbeatInterval}).";
        }

        if (WidenToOtherQueuesAfter < WidenToAnyProficiencyAfter)
        {
            return "Routing:WidenToOtherQueuesAfter must not be shorter than Routing:WidenToAnyProficiencyAfter: the rings widen outwards.";
        }

        return null;
    }
}
