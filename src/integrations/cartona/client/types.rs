//! The parts of Cartona resources that sync needs. Statuses, delivery responsibility and cancellation
//! reasons are enums with an `Other` fallback so a value Cartona adds tomorrow is kept, not rejected.

use crate::integrations::http::lenient;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A string enum with known values (first spelling is the one sent; the others are accepted) and `Other`.
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => [$($wire:literal),+]),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
            /// A value this client does not know, kept as sent.
            Other(String),
        }

        impl $name {
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => [$($wire),+][0],)+
                    $name::Other(text) => text,
                }
            }

            pub fn parse(text: &str) -> Self {
                let trimmed = text.trim();
                $(if [$($wire),+].iter().any(|w| w.eq_ignore_ascii_case(trimmed)) {
                    return $name::$variant;
                })+
                $name::Other(trimmed.to_string())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = lenient::string(d)?;
                if text.trim().is_empty() {
                    return Err(serde::de::Error::custom(concat!("empty ", stringify!($name))));
                }
                Ok($name::parse(&text))
            }
        }
    };
}

wire_enum! {
    /// An order's status on Cartona.
    OrderStatus {
        Pending => ["pending"],
        /// The retailer is changing the order: the supplier must not act on it.
        Editing => ["editing"],
        Approved => ["approved"],
        CancelledByRetailer => ["cancelled_by_retailer"],
        /// Out for delivery (what other systems call shipped).
        AssignedToSalesman => ["assigned_to_salesman"],
        Delivered => ["delivered"],
        CancelledBySupplier => ["cancelled_by_supplier"],
        Returned => ["returned"],
        /// Not a state but an acknowledgement: sending it removes the order from `pull-orders`.
        Synced => ["synced"],
    }
}

wire_enum! {
    /// Who delivers the order to the retailer.
    DeliveredBy {
        Supplier => ["supplier", "delivered_by_supplier"],
        /// Cartona's own fleet.
        Marketplace => ["cartona", "delivered_by_cartona", "marketplace"],
    }
}

wire_enum! {
    /// Why the supplier cancels. The list is our best reading of the module; unknown reasons pass as `Other`.
    CancellationReason {
        OutOfStock => ["out_of_stock"],
        PriceChanged => ["price_changed"],
        RetailerRequest => ["retailer_request"],
        CannotDeliver => ["cannot_deliver"],
        DuplicateOrder => ["duplicate_order"],
        OtherReason => ["other"],
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CartonaOrder {
    #[serde(deserialize_with = "lenient::string")]
    pub hashed_id: String,
    pub status: OrderStatus,
    /// Absent on some payloads; the engine decides what an unknown responsibility means.
    #[serde(default)]
    pub delivered_by: Option<DeliveredBy>,
    /// Marking the order delivered needs the retailer's OTP.
    #[serde(default)]
    pub requires_otp: bool,
    #[serde(default, deserialize_with = "lenient::null_as_default")]
    pub retailer: CartonaRetailer,
    #[serde(
        default,
        rename = "order_items",
        alias = "lines",
        deserialize_with = "lenient::null_as_default"
    )]
    pub lines: Vec<CartonaLine>,
    #[serde(default, deserialize_with = "lenient::number")]
    pub total_price: f64,
    #[serde(default, deserialize_with = "lenient::string")]
    pub payment_method: String,
    #[serde(default, deserialize_with = "lenient::opt_gmt")]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "lenient::opt_gmt")]
    pub updated_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct CartonaRetailer {
    #[serde(default, deserialize_with = "lenient::string")]
    pub id: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub name: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub phone: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub address: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub city: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CartonaLine {
    #[serde(deserialize_with = "lenient::string")]
    pub id: String,
    /// The supplier's own product code (the ERP SKU).
    #[serde(default, deserialize_with = "lenient::string")]
    pub internal_product_id: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub supplier_product_id: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub name: String,
    #[serde(deserialize_with = "lenient::count")]
    pub quantity: i64,
    #[serde(default, deserialize_with = "lenient::number")]
    pub price: f64,
    #[serde(default)]
    pub cancelled: bool,
}

/// One item of a status update (bulk or single).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusUpdate {
    pub hashed_id: String,
    pub status: OrderStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retailer_otp: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancellation_reason: Option<CancellationReason>,
}

impl StatusUpdate {
    pub fn new(hashed_id: impl Into<String>, status: OrderStatus) -> Self {
        Self {
            hashed_id: hashed_id.into(),
            status,
            retailer_otp: None,
            cancellation_reason: None,
        }
    }

    pub fn with_otp(mut self, otp: impl Into<String>) -> Self {
        self.retailer_otp = Some(otp.into());
        self
    }

    pub fn with_reason(mut self, reason: CancellationReason) -> Self {
        self.cancellation_reason = Some(reason);
        self
    }
}

/// One change to an order's lines for `update-order-details`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineChange {
    SetQuantity {
        line_id: String,
        quantity: i64,
    },
    Add {
        internal_product_id: String,
        quantity: i64,
    },
    Cancel {
        line_id: String,
    },
}

impl LineChange {
    pub(crate) fn to_json(&self) -> serde_json::Value {
        match self {
            LineChange::SetQuantity { line_id, quantity } => {
                serde_json::json!({ "id": line_id, "quantity": quantity })
            }
            LineChange::Add {
                internal_product_id,
                quantity,
            } => {
                serde_json::json!({ "internal_product_id": internal_product_id, "quantity": quantity })
            }
            LineChange::Cancel { line_id } => {
                serde_json::json!({ "id": line_id, "cancelled": true })
            }
        }
    }
}

/// An absolute stock level in the supplier's own units; Cartona divides it by the product's `unit_count`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StockUpdate {
    pub internal_product_id: String,
    #[serde(rename = "available_stock_quantity")]
    pub quantity: i64,
}

/// What `bulk-update-stock` reported.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct StockOutcome {
    #[serde(default, deserialize_with = "lenient::count")]
    pub updated: i64,
    /// Product ids Cartona did not know.
    #[serde(default, deserialize_with = "lenient::null_as_default")]
    pub not_found: Vec<String>,
}
