"""Storage's parts besides the store itself: the box that encrypts provider keys, and
where transcription jobs keep their audio (beside the store: files for SQLite, GridFS for
MongoDB)."""

from __future__ import annotations

from routeur_grpc.domain.job_audio import JobAudioStore
from routeur_grpc.media.spool import AudioSpool
from routeur_grpc.settings import Settings, SettingsError
from routeur_grpc.storage.job_audio_files import FileJobAudioStore
from routeur_grpc.storage.secret_box import SecretBox, SecretBoxError


def secret_box(settings: Settings) -> SecretBox:
    """The key that encrypts provider keys at rest; SettingsError when it is unusable."""
    try:
        return SecretBox.open(
            settings.secrets_key.get_secret_value() if settings.secrets_key else None,
            settings.data_dir,
        )
    except SecretBoxError as error:
        raise SettingsError(f"invalid settings:\n  {error}") from None


def job_audio_store(settings: Settings, spool: AudioSpool) -> JobAudioStore:
    """Job audio beside the store: data_dir files for SQLite, GridFS for MongoDB."""
    if settings.store == "mongodb":
        from routeur_grpc.storage.mongodb.job_audio import GridFsJobAudioStore

        return GridFsJobAudioStore(
            settings.mongodb_uri, settings.mongodb_database, spool.temporary_file
        )
    return FileJobAudioStore(settings.data_dir / "job-audio")
