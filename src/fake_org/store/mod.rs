//! The fake org's schema, seeded data and record store (mutations, recycle bin, describe bodies).
