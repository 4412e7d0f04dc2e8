namespace ContactGrains.Bot;

/// <summary>
/// A knowledge base file cannot be used. The message names the file, the place in it and what to change.
/// </summary>
public sealed class KnowledgeBaseException : Exception
{
    public KnowledgeBaseException()
    {
    }

    public KnowledgeBaseException(string message)
        : base(message)
    {
    }

    public KnowledgeBaseException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
