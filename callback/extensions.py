"""Flask extensions, created here once so modules can import them without cycles."""

from typing import TYPE_CHECKING, ClassVar, cast

from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, Table
from sqlalchemy.orm import DeclarativeBase, Session

# Stable constraint names, so migrations can alter and drop them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)

    if TYPE_CHECKING:
        # Every model here maps one Table (DeclarativeBase says FromClause), so Core insert/update/delete
        # on `Model.__table__` type-check.
        __table__: ClassVar[Table]


if TYPE_CHECKING:

    class TypedSQLAlchemy(SQLAlchemy):
        """Flask-SQLAlchemy as the type checker sees it.

        `db.session` is a scoped_session: a proxy that hands every Session method to the current app
        context's session. Services take a `Session`, so to mypy the proxy is one; code that needs the
        proxy's own `remove()` says so with a cast.
        """

        session: Session  # type: ignore[assignment]


db = cast("TypedSQLAlchemy", SQLAlchemy(model_class=Base))

# The base class of every model. At run time it is `db.Model` (Base with Flask-SQLAlchemy's table naming,
# bind and query mixins); mypy cannot use an attribute as a base class, so to it the base is `Base`.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()
